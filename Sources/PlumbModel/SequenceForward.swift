// Batch-invariant inference: every sequence goes through the model alone, at row 0 of activations
// exactly its length (batch 1 x T = its token count), on one thread with single-threaded OpenBLAS.
// Every product it computes then has the same shapes and operands whatever else is being scored, so
// what is read from it (a reward, log-probabilities, values) is a function of the sequence alone:
// not of its batch-mates, its place in a packed row, the chunking of a job or the number of cores.
//
// Packing sequences into shared rows cannot promise that: OpenBLAS's Haswell/Zen sgemm gives row i
// of C = A B^T bits that depend on i modulo 12 and on M, and every kernel family's small-M paths
// differ from its large-M ones (docs/reliability.md, "Batch invariance"). Training batches stay
// packed; only inference whose outputs are stored or compared runs here.
//
// Sequences run side by side on ThreadPool.shared, one per core, each in its thread's own workspace
// of (1, maxLength) activations; attention inside runs inline on that thread (nested pool calls do).
// Passes that never run at the same time (PPO's roles on one LoRA base, scored one after the other)
// can share one set of workspaces (`sharing:`). A workspace is forward-only: its layers reuse one set
// of buffers (nothing is kept for backward), about 1 / L of a training set's memory (at TinyLlama's
// shape and 512 tokens about 0.25 GB per thread rather than 2.1 GB).
import PlumbTensor

public final class SequenceForward {
    public let model: LlamaModel
    /// A LoRA adapter every pass runs with (nil: the bare model).
    public let adapter: LoRAAdapter?
    /// Longest sequence accepted.
    public let maxLength: Int
    let workspaces: [LlamaActivations]   // one (1, maxLength) per pool thread
    /// Whether the LM head runs.
    let logits: Bool

    /// `logits`: whether the LM head runs (log-probabilities need it; rewards and values do not).
    /// `sharing`: use that pass's workspaces rather than allocating (the two must never run at the
    /// same time; its model must have this model's shape, its length and logits cover these).
    public init(model: LlamaModel, maxLength: Int, logits: Bool, adapter: LoRAAdapter? = nil, sharing other: SequenceForward? = nil) throws {
        guard maxLength > 0 else { throw ConfigError("sequence forward: maxLength must be positive, got \(maxLength)") }
        self.model = model
        self.adapter = adapter
        self.maxLength = maxLength
        self.logits = logits
        if let other {
            let (mine, theirs) = (model.config, other.model.config)
            guard mine.dim == theirs.dim, mine.hiddenDim == theirs.hiddenDim, mine.nLayers == theirs.nLayers, mine.nHeads == theirs.nHeads,
                  mine.nKVHeads == theirs.nKVHeads, mine.vocabSize == theirs.vocabSize, maxLength <= other.maxLength, !logits || other.logits else {
                throw ConfigError("sequence forward: cannot share the workspaces of a pass of another shape, a shorter length (\(other.maxLength) < \(maxLength)) or without logits")
            }
            workspaces = other.workspaces
        } else {
            workspaces = try (0..<ThreadPool.shared.threads).map { _ in
                try LlamaActivations(config: model.config, batchSize: 1, seqLen: maxLength, logits: logits, forwardOnly: true)
            }
        }
    }

    /// Runs the forward pass of each example alone and returns `read(activations, layout)` of each,
    /// in order. `read` sees batch-1 activations of exactly the example's length; it runs on a pool
    /// thread and must only read them (and the model), and must not call BLAS multi-threaded.
    public func map<T>(_ examples: [BatchLayout.Example], padToken: Int32,
                       _ read: (LlamaActivations, BatchLayout) throws -> T) throws -> [T] {
        if let i = examples.firstIndex(where: { $0.tokens.isEmpty || $0.tokens.count > maxLength }) {
            throw ConfigError("sequence forward: example \(i) has \(examples[i].tokens.count) tokens; it must have 1...\(maxLength)")
        }
        var results = [Result<T, Error>?](repeating: nil, count: examples.count)
        results.withUnsafeMutableBufferPointer { out in
            ThreadPool.withSingleThreadedBLAS {
                ThreadPool.shared.forEach(chunks: examples.count) { i, thread in
                    out[i] = Result { try self.run(examples[i], padToken: padToken, workspace: workspaces[thread], read) }
                }
            }
        }
        return try results.map { try $0!.get() }
    }

    private func run<T>(_ example: BatchLayout.Example, padToken: Int32, workspace: LlamaActivations,
                        _ read: (LlamaActivations, BatchLayout) throws -> T) throws -> T {
        let length = example.tokens.count
        let layout = try BatchLayout.packed([example], batchSize: 1, seqLen: length, padToken: padToken)
        let acts = try LlamaActivations(prefixOf: workspace, length: length, logits: logits)
        try model.forward(layout, acts, adapter: adapter)
        return try read(acts, layout)
    }
}
