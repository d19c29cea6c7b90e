// The work of a rejection-sampling stage, chunk by chunk: sample a chunk of prompts, score every
// sample with both reward models, write the chunk's three shard sets under `.partial-chunk-N` and
// rename it to `chunks/chunk-N` when whole (its summary beside the shards). A rerun skips whole chunks.
// At the end each set's chunk shards are linked into the stage directory as one numbered shard set.
//
// Distributed (`Distributed.world` of N ranks): rank r samples and scores the chunk's prompts i ≡ r
// (mod N); rank 0 gathers every prompt's outcome, puts them back in prompt order and alone writes
// the chunk, so the shards are the bytes one process writes (a sample depends on its prompt's seed
// only, and a score on its own sequence). Rank 0 decides which chunks are already whole.
import Foundation
import PlumbData
import PlumbModel
import PlumbStore
import PlumbTensor

struct RejectionSamplingChunks {
    let parameters: RejectionSamplingStage.Parameters
    let stage: StageWriter
    let reward: CombinedReward
    let scorer: CombinedScorer
    let templated: TemplatedTokenizer
    let policy: LlamaModel
    /// Earlier rounds' best demonstrations by prompt id.
    let previousBest: [String: [Demonstration]]

    static let outputs = ["samples", "demonstrations-train", "comparisons-train"]
    typealias Summary = RejectionSamplingStage.Summary

    func run(_ prompts: [PromptRecord], log: (String) -> Void) throws -> Summary {
        let root = stage.directory.appendingPathComponent("chunks")
        try AtomicFile.makeDirectory(root)
        let per = parameters.promptsPerShard
        let chunks: [[PromptRecord]] = stride(from: 0, to: prompts.count, by: per).map { Array(prompts[$0..<min($0 + per, prompts.count)]) }
        // Earlier rounds' prompts missing from this round still contribute their best (Llama 2 pools all rounds).
        let here = Set(prompts.map(\.prompt.id))
        let carried = previousBest.keys.filter { !here.contains($0) }.sorted()
        let carryChunks = stride(from: 0, to: carried.count, by: per).map { Array(carried[$0..<min($0 + per, carried.count)]) }
        let sampler = try PolicySampler(model: policy, templated: templated, maxSequences: parameters.maxSequences)
        let world = Distributed.world
        var total = Summary()
        var directories: [URL] = []
        for c in 0..<(chunks.count + carryChunks.count) {
            let name = String(format: "chunk-%05d", c)
            let done = root.appendingPathComponent(name)
            directories.append(done)
            let summaryFile = done.appendingPathComponent("summary.json")
            let whole = world.isRoot ? (try? Data(contentsOf: summaryFile)).flatMap { try? JSONDecoder().decode(Summary.self, from: $0) } : nil
            if try world.broadcast(whole != nil, root: 0) {
                if let whole { total.add(whole) }
                continue
            }
            var timing = ChunkTiming()
            let outcomes = c < chunks.count ? try shardedOutcomes(chunks[c], sampler: sampler, timing: &timing) : nil
            guard world.isRoot else { continue }
            let partial = root.appendingPathComponent(".partial-" + name)
            try? FileManager.default.removeItem(at: partial)
            try? FileManager.default.removeItem(at: done)
            try AtomicFile.makeDirectory(partial)
            let summary = c < chunks.count
                ? try writeChunk(chunks[c], outcomes: outcomes!, timing: timing, into: partial)
                : try carryChunk(carryChunks[c - chunks.count], into: partial)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try AtomicFile.write(try encoder.encode(summary), to: partial.appendingPathComponent("summary.json"))
            try AtomicFile.rename(partial, to: done)
            total.add(summary)
            log(String(format: "rs: chunk %d/%d: %d prompts, %d samples, %.0f tok/s sampling, %.1f s scoring", c + 1,
                       chunks.count + carryChunks.count, summary.prompts, summary.samples,
                       Double(summary.sampledTokens) / max(summary.samplingSeconds, 1e-9), summary.scoringSeconds))
            FaultInjection.killIfRequested(afterChunk: c + 1)
        }
        if world.isRoot { try publish(directories) }
        return total
    }

    /// Links each set's chunk shards into the stage directory as `NAME-i-of-n` and records the outputs.
    private func publish(_ directories: [URL]) throws {
        for name in Self.outputs {
            var infos: [ShardFileInfo] = []
            for dir in directories {
                let data = try Data(contentsOf: dir.appendingPathComponent("\(name).json"))
                infos += try JSONDecoder().decode([ShardFileInfo].self, from: data).map { var i = $0; i.file = dir.lastPathComponent + "/" + $0.file; return i }
            }
            for i in infos.indices {
                let final = ShardNaming.finalName(name, index: i, count: infos.count)
                let target = stage.directory.appendingPathComponent(final)
                unlink(target.path)
                guard link(stage.directory.appendingPathComponent("chunks/" + infos[i].file).path, target.path) == 0 else {
                    throw StageError("rs: cannot link \(infos[i].file) to \(target.path) (errno \(errno))")
                }
                infos[i].file = final
            }
            try stage.addOutput(name: name, files: infos)
        }
    }

    /// One prompt's samples with their scores and combined rewards, and the combined reward of each of
    /// its earlier rounds' best under the current reward models: what a rank sends rank 0.
    struct PromptOutcome: Codable {
        var samples: [RejectionSample]
        var pooled: [Float]
        /// Samples whose combined reward took the safety model's score.
        var safetyChosen: Int
    }

    /// This rank's seconds sampling and scoring a chunk.
    struct ChunkTiming { var sampling = 0.0, scoring = 0.0 }

    /// Every prompt's outcome in prompt order on rank 0 (nil on the others), each rank sampling and
    /// scoring its share of the prompts.
    private func shardedOutcomes(_ prompts: [PromptRecord], sampler: PolicySampler, timing: inout ChunkTiming) throws -> [PromptOutcome]? {
        var local = ChunkTiming()
        let merged = try Sharding.gatherInOrder(count: prompts.count, world: Distributed.world) { mine in
            try outcomes(mine.map { prompts[$0] }, sampler: sampler, timing: &local)
        }
        timing = local
        return merged
    }

    /// Samples and scores `prompts`: k samples each, then every sample and each prompt's earlier-round
    /// best scored together.
    private func outcomes(_ prompts: [PromptRecord], sampler: PolicySampler, timing: inout ChunkTiming) throws -> [PromptOutcome] {
        guard !prompts.isEmpty else { return [] }
        let seeds = prompts.map { PolicySampler.seed(parameters.seed, promptID: $0.prompt.id) }
        var clock = monotonicNow()
        let responses = try sampler.respond(to: prompts.map(\.prompt.messages), samples: parameters.k, settings: parameters.sampling, seeds: seeds)
        timing.sampling = monotonicNow() - clock
        clock = monotonicNow()
        var sequences: [TokenizedExample] = []
        for group in responses {
            for r in group { sequences.append(TokenizedExample(tokens: r.promptTokens + r.tokens, promptCount: r.promptTokens.count)) }
        }
        let earlier = prompts.map { previousBest[$0.prompt.id] ?? [] }
        for (p, demos) in zip(prompts, earlier) {
            for d in demos { sequences.append(try templated.encode(prompt: p.prompt.messages, response: d.response)) }
        }
        let scores = try scorer.scores(sequences)
        timing.scoring = monotonicNow() - clock
        var next = 0, earlierNext = responses.count * parameters.k
        var out: [PromptOutcome] = []
        for (i, prompt) in prompts.enumerated() {
            let safetyPrompt = SampleRanking.isSafetyPrompt(prompt.prompt)
            var outcome = PromptOutcome(samples: [], pooled: [], safetyChosen: 0)
            for (j, r) in responses[i].enumerated() {
                let s = scores[next]; next += 1
                let value = reward.combine(helpfulness: s.helpfulness, safety: s.safety, safetyPrompt: safetyPrompt)
                outcome.samples.append(RejectionSample(promptID: prompt.prompt.id, prompt: prompt.prompt, sample: j, text: r.text, tokens: r.tokens.count,
                                                       stop: RejectionSample.stopName(r.finish), helpfulness: s.helpfulness, safety: s.safety,
                                                       safetyPrompt: safetyPrompt, gateFired: value.gateFired, combined: value.logit, round: parameters.round))
                outcome.safetyChosen += value.safetyChosen ? 1 : 0
            }
            outcome.pooled = earlier[i].map { _ in
                let s = scores[earlierNext]; earlierNext += 1
                return reward.combine(helpfulness: s.helpfulness, safety: s.safety, safetyPrompt: safetyPrompt).logit
            }
            out.append(outcome)
        }
        return out
    }

    /// Writes a chunk's three shard sets from its prompts' outcomes, in prompt order.
    private func writeChunk(_ prompts: [PromptRecord], outcomes: [PromptOutcome], timing: ChunkTiming, into directory: URL) throws -> Summary {
        var summary = Summary()
        summary.prompts = prompts.count
        summary.samplingSeconds = timing.sampling
        summary.scoringSeconds = timing.scoring
        let writers = try Self.outputs.map { try ShardWriter(directory: directory, name: $0, options: Self.shardOptions) }
        for (i, (prompt, outcome)) in zip(prompts, outcomes).enumerated() {
            for sample in outcome.samples {
                summary.sampledTokens += sample.tokens
                summary.gateFired += sample.gateFired ? 1 : 0
                summary.combinedSum += Double(sample.combined)
                summary.combinedSumSquares += Double(sample.combined) * Double(sample.combined)
                try writers[0].append(sample)
            }
            summary.safetyChosen += outcome.safetyChosen
            summary.samples += outcome.samples.count
            let demos = previousBest[prompt.prompt.id] ?? []
            let pooled = zip(outcome.pooled, demos).map { (combined: $0, demo: $1) }
            try writeBest(prompt, index: i, samples: outcome.samples, pooled: pooled, writers: writers, summary: &summary)
        }
        try finishWriters(writers, into: directory)
        return summary
    }

    /// The best of this round's samples and the earlier rounds' best (ties: this round), and the pair.
    private func writeBest(_ prompt: PromptRecord, index: Int, samples: [RejectionSample], pooled: [(combined: Float, demo: Demonstration)],
                           writers: [ShardWriter], summary: inout Summary) throws {
        let own = SampleRanking.best(samples)
        let earlierBest = pooled.enumerated().max { a, b in a.element.combined != b.element.combined ? a.element.combined < b.element.combined : a.offset > b.offset }?.element
        if own == nil && earlierBest == nil { summary.noFinishedSample += 1; return }
        if let e = earlierBest, own == nil || e.combined > own!.combined {
            try writers[1].append(e.demo)
            summary.best += 1
            summary.bestFromEarlierRounds += 1
        } else if let b = own {
            try writers[1].append(Demonstration(id: "rs\(parameters.round)-\(prompt.prompt.id)", prompt: prompt.prompt, response: b.text,
                                                origin: .rejectionSampling, source: SourceRef(file: "rs/round-\(parameters.round)", line: index + 1),
                                                round: parameters.round))
            summary.best += 1
        }
        guard let best = own, let worst = SampleRanking.worst(samples) else { return }
        guard best.text != worst.text, best.combined > worst.combined else { summary.pairsSkipped += 1; return }
        let comparison = Comparison(
            id: "rs\(parameters.round)-\(prompt.prompt.id)", prompt: prompt.prompt, chosen: best.text, rejected: worst.text,
            dimension: best.safetyPrompt || best.gateFired || worst.gateFired ? .safety : .helpfulness,
            strength: .margin(Double(best.combined - worst.combined)), source: SourceRef(file: "rs/round-\(parameters.round)", line: index + 1))
        try writers[2].append(comparison)
        summary.pairs += 1
    }

    /// Earlier rounds' best for prompts this round did not sample: kept as they were.
    private func carryChunk(_ ids: [String], into directory: URL) throws -> Summary {
        var summary = Summary()
        let writers = try Self.outputs.map { try ShardWriter(directory: directory, name: $0, options: Self.shardOptions) }
        // Every carried demonstration scored in one packed pass, then the best per prompt.
        let groups = ids.map { previousBest[$0]! }
        let scores = try scorer.scores(try groups.flatMap { demos in
            try demos.map { try templated.encode(prompt: $0.prompt.messages, response: $0.response) }
        })
        var next = 0
        for demos in groups {
            let safety = SampleRanking.isSafetyPrompt(demos[0].prompt)
            let combined = scores[next..<next + demos.count].map {
                reward.combine(helpfulness: $0.helpfulness, safety: $0.safety, safetyPrompt: safety).logit
            }
            next += demos.count
            let best = combined.indices.max { combined[$0] != combined[$1] ? combined[$0] < combined[$1] : $0 > $1 }!
            try writers[1].append(demos[best])
            summary.best += 1
            summary.bestFromEarlierRounds += 1
        }
        try finishWriters(writers, into: directory)
        return summary
    }

    private func finishWriters(_ writers: [ShardWriter], into directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for (name, writer) in zip(Self.outputs, writers) {
            try AtomicFile.write(try encoder.encode(try writer.finish()), to: directory.appendingPathComponent("\(name).json"))
        }
    }

    /// One shard per set per chunk.
    static var shardOptions: ShardWriter.Options {
        var o = ShardWriter.Options()
        o.maxRecordsPerShard = Int.max
        o.maxRawBytesPerShard = Int.max
        return o
    }
}
