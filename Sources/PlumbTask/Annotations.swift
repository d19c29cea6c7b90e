// The annotated share of the task (TigerBot's 90/5/5): pairwise comparisons from simulated
// annotators, k-way human rankings and human edits (both as Label Studio exports), plus the
// noise-free oracle-labelled pairs used to evaluate reward models.

struct Annotations {
    let settings: TaskSettings

    func build(into data: inout TaskDataset, rng: inout TaskRandom) {
        let total = settings.sizes.annotatedPrompts
        let rankingCount = Int((Double(total) * settings.annotation.rankingShare).rounded())
        let editCount = Int((Double(total) * settings.annotation.editShare).rounded())
        for i in 0..<(total - rankingCount - editCount) {
            data.comparisons.append(comparison(i, stats: &data.statistics.comparisons, rng: &rng))
        }
        for i in 0..<rankingCount { data.rankings.append(ranking(i, rng: &rng)) }
        for i in 0..<editCount { data.edits.append(edit(i, rng: &rng)) }
    }

    func comparison(_ index: Int, stats: inout TaskStatistics.Comparisons, rng: inout TaskRandom) -> ComparisonRecord {
        let spec = PromptSampler.sample(.training, mix: settings.promptMix, rng: &rng)
        let (pair, tied) = Candidate.distinctSet(spec, count: 2, settings.candidates, rng: &rng)
        let profile = rng.pick(settings.annotation.annotators)
        let judgement = SimulatedAnnotator.judge(profile, pair[0].annotated, pair[1].annotated, settings: settings.annotation, rng: &rng)
        let (chosen, rejected) = judgement.choseFirst ? (pair[0], pair[1]) : (pair[1], pair[0])
        let better = pair[0].score > pair[1].score ? pair[0] : pair[1]
        let worse = pair[0].score > pair[1].score ? pair[1] : pair[0]
        stats.count += 1
        stats.flipped += chosen.score < rejected.score ? 1 : 0
        stats.expectedFlips += profile.disagreementProbability(betterWords: better.quality.wordCount, worseWords: worse.quality.wordCount)
        stats.perStrength[judgement.strength.rawValue, default: 0] += 1
        stats.perAnnotator[profile.name, default: 0] += 1
        stats.tiedCandidateSets += tied ? 1 : 0
        return ComparisonRecord(
            id: recordId("cmp", index), prompt: [.user(spec.text)], chosen: [.assistant(chosen.text)],
            rejected: [.assistant(rejected.text)], dimension: spec.kind.isSafety ? "safety" : "helpfulness",
            strength: judgement.strength, annotator: profile.name,
            chosenSafe: judgement.choseFirst ? judgement.firstSafeLabel : judgement.secondSafeLabel,
            rejectedSafe: judgement.choseFirst ? judgement.secondSafeLabel : judgement.firstSafeLabel,
            tags: spec.tags)
    }

    /// A k-way ranking task: the prompt and k candidates in random order, ranked by a noisy annotator.
    func ranking(_ index: Int, rng: inout TaskRandom) -> RankingTask {
        let spec = PromptSampler.sample(.training, mix: settings.promptMix, rng: &rng)
        let k = settings.annotation.rankingSize
        let candidates = Candidate.distinctSet(spec, count: k, settings.candidates, rng: &rng).candidates
        let items = candidates.enumerated().map { i, c in
            RankItem(id: "r\(i)", body: c.text)
        }
        let order = SimulatedAnnotator.rank(candidates.map(\.score), noise: settings.annotation.rankingNoise, rng: &rng)
        let profile = rng.pick(settings.annotation.annotators)
        let result = LabelStudioResult(id: "rank-\(index)", fromName: "rank", toName: "responses", type: "ranker",
                                       origin: "manual", value: RankerValue(ranker: order.map { items[$0].id }))
        return RankingTask(
            id: index + 1,
            data: RankingData(prompt: spec.text, items: items, tags: spec.tags),
            annotations: [LabelStudioAnnotation(id: index + 1, completedBy: profile.userId, result: [result],
                                                wasCancelled: false, groundTruth: false)],
            predictions: [], meta: TaskMeta(recordId: recordId("rank", index)))
    }

    /// A human-edit task: a flawed candidate and the annotator's corrected (ideal) response.
    func edit(_ index: Int, rng: inout TaskRandom) -> EditTask {
        let spec = PromptSampler.sample(.training, mix: settings.promptMix, rng: &rng)
        let ideal = ResponseTraits.ideal(for: spec.kind)
        var shown = Candidate.sample(spec, settings.candidates, rng: &rng)
        while shown.traits == ideal { shown = Candidate.sample(spec, settings.candidates, rng: &rng) }
        let corrected = ResponseWriter.write(spec, ideal, rng: &rng)
        let profile = rng.pick(settings.annotation.annotators)
        let result = LabelStudioResult(id: "edit-\(index)", fromName: "corrected", toName: "response", type: "textarea",
                                       origin: "manual", value: TextAreaValue(text: [corrected]))
        return EditTask(
            id: index + 1,
            data: EditData(prompt: spec.text, response: shown.text, tags: spec.tags),
            annotations: [LabelStudioAnnotation(id: index + 1, completedBy: profile.userId, result: [result],
                                                wasCancelled: false, groundTruth: false)],
            predictions: [], meta: TaskMeta(recordId: recordId("edit", index)))
    }

    /// Noise-free pairs on held-out prompts: chosen is the truly better response, strength from the true gap,
    /// tagged with what separates the two (`PairContrast`).
    func oraclePairs(on specs: [PromptSpec], count: Int, rng: inout TaskRandom) -> [ComparisonRecord] {
        guard !specs.isEmpty else { return [] }
        return (0..<count).map { i in
            let spec = rng.pick(specs)
            let pair = Candidate.distinctSet(spec, count: 2, settings.candidates, rng: &rng).candidates
            let (chosen, rejected) = pair[0].score > pair[1].score ? (pair[0], pair[1]) : (pair[1], pair[0])
            return ComparisonRecord(
                id: recordId("rmeval", i), prompt: [.user(spec.text)], chosen: [.assistant(chosen.text)],
                rejected: [.assistant(rejected.text)], dimension: spec.kind.isSafety ? "safety" : "helpfulness",
                strength: .forGap(chosen.score - rejected.score), annotator: "oracle",
                chosenSafe: chosen.safe, rejectedSafe: rejected.safe,
                tags: spec.tags + [PairContrast.of(better: chosen.quality, worse: rejected.quality).tag])
        }
    }
}
