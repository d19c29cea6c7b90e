// What the benches check before they allocate: a sequence length within the rotary table they build,
// and the bytes they are about to allocate against the memory the machine has free (/proc/meminfo's
// MemAvailable). Both refusals name the figures, so a user picks a smaller batch or sequence.
//
// The byte counts mirror the allocations, float by float:
//   parameters   LlamaTensorNames.table (what LlamaModel allocates), 8 bytes each: every LlamaModel
//                holds a values and a gradient arena; a trained one 8 more for AdamW's two moments;
//   activations  LlamaActivations and its BackwardScratch (per layer 4 N C + 2 N + 2 N H D + 2 N KVH D
//                + B H T + 3 N F; then 3 N C + N, the logits N V and the scratch), plus the token
//                log-prob gradient N V when the objective reads per-token log-probabilities (DPO);
//   decoding     the weights and the KV cache, 2 L S capacity KVH D.
// Smaller buffers (the RoPE table, one row of logits per slot, BLAS's own workspace) are left out,
// so the figures are lower bounds, within a few percent at the presets' shapes.
import Foundation

/// A bench shape that cannot run here; the message names the option, the figure and the limit.
public struct BenchBudgetError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public enum BenchBudget {
    /// Positions of the longest rotary table the benches build: TinyLlama's context. RoPE extends past a
    /// preset's own context, so a bench widens the preset up to this and refuses beyond it.
    public static let maxPositions = 2048

    /// The preset's shape with a context of `seqLen` positions (at least its own).
    public static func config(_ preset: LlamaPreset, seqLen: Int, option: String = "--seq-len") throws -> LlamaConfig {
        let base = preset.config
        let limit = max(base.maxSeqLen, maxPositions)
        guard seqLen <= limit else {
            throw BenchBudgetError("\(option) \(seqLen) is beyond the rotary table of preset \(preset.rawValue): \(limit) positions at most")
        }
        return base.with(maxSeqLen: max(base.maxSeqLen, seqLen))
    }

    /// Parameters LlamaModel allocates for `config` with `heads`.
    public static func parameterCount(_ config: LlamaConfig, heads: LlamaHeads = .lm) -> Int {
        LlamaTensorNames.table(config, heads: heads).reduce(0) { $0 + $1.shape.reduce(1, *) }
    }

    /// Floats of one LlamaActivations (with logits) of B x T rows, plus the per-token log-prob gradient
    /// (N, V) when `tokenLogProbGradient`.
    public static func activationFloats(_ c: LlamaConfig, batchSize b: Int, seqLen t: Int, tokenLogProbGradient: Bool = false) -> Int {
        let n = b * t, qWidth = c.nHeads * c.headDim
        let perLayer = 4 * n * c.dim + 2 * n + 2 * n * qWidth + 2 * n * c.kvDim + b * c.nHeads * t + 3 * n * c.hiddenDim
        let trunkEnd = 3 * n * c.dim + n + n * c.vocabSize
        let scratch = 2 * n * c.dim + 3 * n * qWidth + 3 * n * c.kvDim + 3 * n * c.hiddenDim
        return c.nLayers * perLayer + trunkEnd + scratch + (tokenLogProbGradient ? n * c.vocabSize : 0)
    }

    /// Bytes of a training bench: weights, gradients, AdamW's moments and one set of activations.
    public static func trainingBytes(_ c: LlamaConfig, batchSize: Int, seqLen: Int, tokenLogProbGradient: Bool = false) -> Int {
        16 * parameterCount(c) + 4 * activationFloats(c, batchSize: batchSize, seqLen: seqLen, tokenLogProbGradient: tokenLogProbGradient)
    }

    /// Bytes of a decoding bench: the model's two arenas and a KV cache of `sequences` slots x `capacity` positions.
    public static func decodingBytes(_ c: LlamaConfig, sequences: Int, capacity: Int) -> Int {
        8 * parameterCount(c) + 4 * 2 * c.nLayers * sequences * capacity * c.kvDim
    }

    /// Bytes of `bench ppo`: five models' values and gradient arenas (policy, reference, critic, two
    /// reward models), the moments of the two it trains, five activation sets of `rows` x `seqLen` (the scoring
    /// and update passes) and the rollout's KV cache of `prompts` slots.
    public static func ppoBytes(_ c: LlamaConfig, prompts: Int, rows: Int, seqLen: Int) -> Int {
        let p = parameterCount(c)
        return 8 * 5 * p + 8 * 2 * p + 4 * 5 * activationFloats(c, batchSize: rows, seqLen: seqLen, tokenLogProbGradient: true)
            + 4 * 2 * c.nLayers * prompts * seqLen * c.kvDim
    }

    /// MemAvailable of a /proc/meminfo text, in bytes; nil when the line is missing or malformed.
    public static func memAvailableBytes(meminfo: String) -> Int? {
        for line in meminfo.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 3, fields[2] == "kB", let kib = Int(fields[1]) else { return nil }
            return kib * 1024
        }
        return nil
    }

    /// This machine's MemAvailable, or nil where /proc/meminfo does not exist (then nothing is refused).
    public static func memAvailableBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        return memAvailableBytes(meminfo: text)
    }

    /// Refuses `bytes` above `available` (MemAvailable unless given), naming `what` and both figures.
    public static func checkFits(_ what: String, bytes: Int, available: Int? = memAvailableBytes()) throws {
        guard let available, bytes > available else { return }
        throw BenchBudgetError("\(what) needs an estimated \(gib(bytes)) GiB (\(bytes) bytes), more than the \(gib(available)) GiB "
                               + "(\(available) bytes) available (/proc/meminfo MemAvailable): use a smaller batch or sequence")
    }

    /// Bytes in GiB with two decimals.
    static func gib(_ bytes: Int) -> String { String(format: "%.2f", Double(bytes) / Double(1 << 30)) }
}
