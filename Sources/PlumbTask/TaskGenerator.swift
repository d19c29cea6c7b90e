// Builds the whole task from a seed: base corpus, SFT demonstrations with planted flaws, annotated
// comparisons / rankings / edits (the 90/5/5 split), prompt sets, held-out eval prompts and
// noise-free reward-model eval pairs, labelled single responses. Each part draws from its own stream of the seed.

public struct TaskGenerator {
    public let settings: TaskSettings
    public let seed: UInt64

    public init(settings: TaskSettings, seed: UInt64) {
        self.settings = settings
        self.seed = seed
    }

    public func generate() -> TaskDataset {
        let root = TaskRandom(seed: seed)
        let sizes = settings.sizes
        var data = TaskDataset()
        var rng = root.stream("corpus")
        data.corpus = CorpusWriter.passages(count: sizes.corpusPassages, rng: &rng)
        rng = root.stream("sft")
        (data.sft, data.statistics.sft) = demonstrations(count: sizes.sftDemonstrations, rng: &rng)
        rng = root.stream("annotation")
        Annotations(settings: settings).build(into: &data, rng: &rng)
        rng = root.stream("rs-prompts")
        data.rejectionSamplingPrompts = promptSet("rs", count: sizes.rejectionSamplingPrompts, rng: &rng)
        rng = root.stream("ppo-prompts")
        data.ppoPrompts = promptSet("ppo", count: sizes.ppoPrompts, rng: &rng)
        rng = root.stream("validation-prompts")
        data.validationPrompts = validationPromptSet("val", count: sizes.validationPromptCount, rng: &rng)
        rng = root.stream("thumbs")
        var thumbsStats = TaskStatistics.Thumbs()
        data.thumbs = Annotations(settings: settings).thumbs(count: sizes.thumbsCount, stats: &thumbsStats, rng: &rng)
        data.statistics.thumbs = thumbsStats
        rng = root.stream("eval")
        let evalSpecs = evalPromptSpecs(count: sizes.evalPrompts, rng: &rng)
        data.statistics.evalPromptsShort = sizes.evalPrompts - evalSpecs.count
        data.evalPrompts = evalSpecs.enumerated().map { i, spec in
            MessageRecord(id: recordId("eval", i), messages: [.user(spec.text)], tags: spec.tags)
        }
        rng = root.stream("rm-eval")
        data.rewardEval = Annotations(settings: settings).oraclePairs(on: evalSpecs, count: sizes.rewardEvalPairs, rng: &rng)
        rng = root.stream("labelled")
        data.labelledResponses = Annotations(settings: settings).labelledResponses(on: evalSpecs, count: sizes.rewardEvalPairs, rng: &rng)
        return data
    }

    /// SFT demonstrations: the ideal response, except for the flaws planted at the stated rates.
    func demonstrations(count: Int, rng: inout TaskRandom) -> ([MessageRecord], TaskStatistics.SFT) {
        let flaws = settings.sftFlaws
        var stats = TaskStatistics.SFT()
        var records: [MessageRecord] = []
        var prompts = DistinctPrompts(.training, mix: settings.promptMix)
        for i in 0..<count {
            guard let spec = prompts.next(rng: &rng) else { break }
            var traits = ResponseTraits.ideal(for: spec.kind)
            switch spec.kind {
            case .harmful:
                stats.harmful += 1
                if rng.chance(flaws.harmfulCompliance) { traits.refuses = false; stats.harmfulCompliance += 1 }
            case .borderline:
                stats.borderline += 1
                if rng.chance(flaws.overRefusal) { traits.refuses = true; stats.overRefusals += 1 }
            default:
                stats.helpfulness += 1
                if rng.chance(flaws.wrongAnswer) { traits.correct = false; stats.wrongAnswers += 1 }
                if rng.chance(flaws.rambling) { traits.rambles = true; stats.rambling += 1 }
            }
            let response = ResponseWriter.write(spec, traits, rng: &rng)
            records.append(MessageRecord(id: recordId("sft", i), messages: [.user(spec.text), .assistant(response)], tags: spec.tags))
        }
        return (records, stats)
    }

    /// Distinct training prompts without responses, for rejection sampling and PPO.
    func promptSet(_ prefix: String, count: Int, rng: inout TaskRandom) -> [MessageRecord] {
        distinctSpecs(.training, count: count, mix: settings.promptMix, rng: &rng).enumerated().map { i, spec in
            MessageRecord(id: recordId(prefix, i), messages: [.user(spec.text)], tags: spec.tags)
        }
    }

    /// Distinct validation prompts (validation entities, training wordings) in the evaluation mix.
    func validationPromptSet(_ prefix: String, count: Int, rng: inout TaskRandom) -> [MessageRecord] {
        distinctSpecs(.validation, count: count, mix: settings.evalPromptMix ?? settings.promptMix, rng: &rng).enumerated().map { i, spec in
            MessageRecord(id: recordId(prefix, i), messages: [.user(spec.text)], tags: spec.tags)
        }
    }

    /// Distinct held-out prompts.
    func evalPromptSpecs(count: Int, rng: inout TaskRandom) -> [PromptSpec] {
        distinctSpecs(.evaluation, count: count, mix: settings.evalPromptMix ?? settings.promptMix, rng: &rng)
    }

    /// Up to `count` distinct prompts of `split`; fewer only if the space runs out (task.json counts files' records).
    func distinctSpecs(_ split: PromptSplit, count: Int, mix: TaskSettings.PromptMix, rng: inout TaskRandom) -> [PromptSpec] {
        var prompts = DistinctPrompts(split, mix: mix)
        var specs: [PromptSpec] = []
        while specs.count < count, let spec = prompts.next(rng: &rng) { specs.append(spec) }
        return specs
    }
}

/// "sft-000042": record ids sort in generation order.
func recordId(_ prefix: String, _ index: Int) -> String {
    let digits = String(index)
    return prefix + "-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
}
