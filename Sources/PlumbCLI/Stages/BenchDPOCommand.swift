// `plumb bench dpo`: DPO-family training steps (policy forward and backward over the chosen and
// rejected responses) against the sgemm ceiling measured in the same run, one JSON line. The
// reference's log-probabilities are cached (they cost nothing per step), or with
// `--uncached-reference` computed every step by a reference model's forward passes (what a trainer
// without a cache pays); `--loss simpo|orpo` need none. The policy's FLOPs are the training count
// of its tokens (PaLM appendix B, as `bench train`).
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
    @Option(help: "Loss of the DPO family (simpo and orpo need no reference).") var loss: DPOLossKind = .sigmoid
    @Flag(help: "Compute the reference's log-probabilities every step (no cache).") var uncachedReference = false

    func validate() throws {
        guard pairs > 0, seqLen > promptLength + 1, promptLength > 0, steps > 0 else { throw ValidationError("positive sizes and --seq-len > --prompt-length + 1") }
        guard !uncachedReference || loss.needsReference else { throw ValidationError("--loss \(loss.rawValue) uses no reference: drop --uncached-reference") }
    }

    func run() throws {
        let config = try BenchBudget.config(preset, seqLen: seqLen)
        let referenceBytes = uncachedReference
            ? 8 * BenchBudget.parameterCount(config) + 4 * BenchBudget.activationFloats(config, batchSize: 2 * pairs, seqLen: seqLen) : 0
        try BenchBudget.checkFits("bench dpo --preset \(preset.rawValue) (\(pairs) pairs x \(seqLen))",
                                  bytes: BenchBudget.trainingBytes(config, batchSize: 2 * pairs, seqLen: seqLen, tokenLogProbGradient: true) + referenceBytes)
        let model = try LlamaModel(config: config, heads: .lm, seed: seed)
        var rng = SeededRNG(seed: seed &+ 3)
        func example() throws -> BatchLayout.Example {
            let tokens = (0...seqLen).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) }
            return try ResponseLikelihood.example(TokenizedExample(tokens: tokens, promptCount: promptLength), seqLen: seqLen)
        }
        let data = try (0..<pairs).map { i in
            DPOPair(id: "\(i)", chosen: try example(), rejected: try example(), referenceChosen: -Double(seqLen), referenceRejected: -Double(seqLen))
        }
        let objective = try DPOObjective(model: model, train: data, validation: [], loss: DPOLoss(kind: loss, beta: loss == .simpo ? 2 : 0.1),
                                         rows: 2 * pairs, seqLen: seqLen, padToken: 0)
        let optimizer = AdamW(parameters: model.parameters, config: AdamWConfig())
        let reference = uncachedReference
            ? try ResponseLikelihood(model: try LlamaModel(config: config, heads: .lm, seed: seed &+ 1), seqLen: seqLen, padToken: 0) : nil
        func step() throws {
            if let reference { _ = try reference.logLikelihoods(data.flatMap { [$0.chosen, $0.rejected] }) }
            model.parameters.zeroGrad()
            _ = try objective.accumulate(indices: Array(0..<pairs), scale: 1)
            try optimizer.update(model.parameters, learningRate: 1e-6, clippingTo: 1)
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
            "loss": loss.rawValue,
            "reference": !loss.needsReference ? "none" : uncachedReference ? "a forward pass per step" : "cached (no forward per step)",
            "peak_rss_bytes": peakRSSBytes() ?? -1,
        ])
    }
}
