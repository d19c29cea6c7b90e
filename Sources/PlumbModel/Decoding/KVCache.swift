// The key/value cache for incremental decoding: for every layer and sequence slot, the rotated keys
// and the values of every position decoded so far (llama2.c `RunState.key_cache`, one per slot).
// k samples of one prompt share its prefill: the prompt's rows are copied from one slot to the others.
import PlumbTensor

public final class KVCache {
    public let layers: Int
    public let slots: Int
    /// Positions each slot can hold.
    public let capacity: Int
    /// Floats per position: n_kv_heads * head_dim.
    public let width: Int
    let keys: Tensor    // (L, S, capacity, KVH * D)
    let values: Tensor  // (L, S, capacity, KVH * D)

    public init(config: LlamaConfig, slots: Int, capacity: Int) throws {
        guard slots > 0, capacity > 0 else { throw TensorError("KVCache: slots \(slots) and capacity \(capacity) must be positive") }
        layers = config.nLayers; self.slots = slots; self.capacity = capacity; width = config.kvDim
        keys = Tensor(zeros: [layers, slots, capacity, width])
        values = Tensor(zeros: [layers, slots, capacity, width])
    }

    @inline(__always) func offset(layer: Int, slot: Int, position: Int) -> Int {
        ((layer * slots + slot) * capacity + position) * width
    }

    @inline(__always) func keys(layer: Int, slot: Int) -> UnsafeMutablePointer<Float> { keys.pointer + offset(layer: layer, slot: slot, position: 0) }
    @inline(__always) func values(layer: Int, slot: Int) -> UnsafeMutablePointer<Float> { values.pointer + offset(layer: layer, slot: slot, position: 0) }

    /// Copies positions 0..<length of slot `source` into slot `target`, every layer.
    public func copyPrefix(from source: Int, to target: Int, length: Int) throws {
        guard source >= 0, source < slots, target >= 0, target < slots, length >= 0, length <= capacity else {
            throw TensorError("KVCache.copyPrefix: slots \(source) -> \(target), length \(length) outside \(slots) slots x \(capacity) positions")
        }
        guard source != target else { return }
        copyRows(from: source, to: target, length: length)
    }

    /// The copy itself, in a function that cannot throw. (Inlined in the throwing `copyPrefix`,
    /// swiftc 6's release build ended it with a tail call to memmove that left a scratch value in
    /// the thrown-error register, so callers saw a spurious error.)
    @inline(never)
    private func copyRows(from source: Int, to target: Int, length: Int) {
        for l in 0..<layers {
            (keys(layer: l, slot: target)).update(from: keys(layer: l, slot: source), count: length * width)
            (values(layer: l, slot: target)).update(from: values(layer: l, slot: source), count: length * width)
        }
    }
}
