// `plumb bench dpo`: DPO training steps (policy forward and backward over the chosen and rejected
// responses, the reference's log-probabilities cached) against the sgemm ceiling measured in the
// same run, one JSON line. The policy's FLOPs are the training count of its tokens (PaLM appendix B,
// as `bench train`): the reference costs nothing per step once cached.
import ArgumentParser
import Foundation
import PlumbData
import PlumbModel
import PlumbStages
import PlumbTensor

struct BenchDPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpo",
        abstract: "DPO step throughput (pairs/s) with a cached reference, against the sgemm ceiling measured in the same run.")

    @Option(help: "Model shape.") var preset: LlamaPreset = .stories15m
    @Option(help: "Pairs per step.") var pairs = 4
    @Option(help: "Tokens per response sequence (prompt + response).") var seqLen = 256
    @Option(help: "Prompt tokens of each sequence.") var promptLength = 64
    @Option(help: "Timed steps (after one warm-up step).") var steps = 3
    @Option(help: "Seed of weights and tokens.") var seed: UInt64 = 0

    func validate() throws {
        guard pairs > 0, seqLen > promptLength + 1, promptLength > 0, steps > 0 else { throw ValidationError("positive sizes and --seq-len > --prompt-length + 1") }
    }

    func run() throws {
        let config = preset.config.with(maxSeqLen: max(preset.config.maxSeqLen, seqLen))
        let model = try LlamaModel(config: config, heads: .lm, seed: seed)
        var rng = SeededRNG(seed: seed &+ 3)
        func example() throws -> BatchLayout.Example {
            let tokens = (0...seqLen).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) }
            return try ResponseLikelihood.example(TokenizedExample(tokens: tokens, promptCount: promptLength), seqLen: seqLen)
        }
        let data = try (0..<pairs).map { i in
            DPOPair(id: "\(i)", chosen: try example(), rejected: try example(), referenceChosen: -Double(seqLen), referenceRejected: -Double(seqLen))
        }
        let objective = try DPOObjective(model: model, train: data, validation: [], loss: DPOLoss(), rows: 2 * pairs, seqLen: seqLen, padToken: 0)
        let optimizer = AdamW(parameters: model.parameters, config: AdamWConfig())
        func step() throws {
            model.parameters.zeroGrad()
            _ = try objective.accumulate(indices: Array(0..<pairs), scale: 1)
            GradientClipping.clip(model.parameters, maxNorm: 1)
            try optimizer.update(model.parameters, learningRate: 1e-6)
        }
        let before = GemmBenchmark.ceiling(sizes: [1024, 2048], repetitions: 3)
        try step()
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps { try step() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(steps)
        let after = GemmBenchmark.ceiling(sizes: [1024, 2048], repetitions: 3)
        let ceiling = max(before.gflops, after.gflops)
        let flops = ModelBenchmarks.trainingFlops(config, batchSize: 2 * pairs, seqLen: seqLen)
        try printJSON([
            "benchmark": "dpo", "preset": preset.rawValue, "pairs_per_step": pairs, "seq_len": seqLen, "steps": steps,
            "step_seconds": seconds, "pairs_per_second": Double(pairs) / seconds,
            "policy_gflop_per_step": flops / 1e9, "achieved_gflops": flops / seconds / 1e9,
            "sgemm_ceiling_gflops": ceiling, "fraction_of_ceiling": flops / seconds / 1e9 / ceiling,
            "reference": "cached (no forward per step)", "peak_rss_bytes": peakRSSBytes() ?? -1,
        ])
    }
}
