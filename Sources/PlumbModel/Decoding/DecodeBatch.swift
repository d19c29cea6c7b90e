// The bookkeeping of batched generation over a fixed set of cache slots: which slot holds which
// sequence (request, sample), its length, its RNG, its tokens so far and whether it is decoding.
// A slot freed by a finished sequence can be given to the next waiting one (continuous batching).
import Foundation
import PlumbTensor

struct DecodeBatch {
    private(set) var sequences: [GeneratedSequence?]  // per slot: the sequence it holds, nil when free
    private(set) var lastToken: [Int32]                // per slot: the token to feed next
    private(set) var length: [Int]                     // per slot: positions filled after feeding lastToken
    private var rng: [SeededRNG]                       // per slot: its sequence's own stream
    private var active: [Bool]                         // per slot: decoding
    private var samplers: [TokenSampler]               // one per core, for sampling rows in parallel

    init(slots: Int, vocab: Int) {
        sequences = [GeneratedSequence?](repeating: nil, count: slots)
        lastToken = [Int32](repeating: 0, count: slots)
        length = [Int](repeating: 0, count: slots)
        rng = [SeededRNG](repeating: SeededRNG(seed: 0), count: slots)
        active = [Bool](repeating: false, count: slots)
        samplers = [TokenSampler](repeating: TokenSampler(vocabSize: vocab), count: ThreadPool.shared.threads)
    }

    var activeSlots: [Int] { active.indices.filter { active[$0] } }
    var freeSlots: [Int] { sequences.indices.filter { sequences[$0] == nil } }

    /// The RNG of sample `sample` of a request seeded `seed`: a function of the two alone, so a
    /// sequence's tokens do not depend on its slot or on the other sequences in the batch.
    static func rng(seed: UInt64, sample: Int) -> SeededRNG {
        SeededRNG(seed: seed ^ (UInt64(sample) &* 0x9E37_79B9_7F4A_7C15))
    }

    /// Places sample `sample` of request `request` in the free `slot`, after a prompt of `promptLength`
    /// tokens, and draws its first token from the prompt's `logits`.
    mutating func admit(slot: Int, request: Int, sample: Int, seed: UInt64, promptLength: Int, logits: UnsafePointer<Float>,
                        options: GenerationOptions, capacity: Int) {
        precondition(sequences[slot] == nil, "DecodeBatch.admit: slot \(slot) is taken")
        sequences[slot] = GeneratedSequence(request: request, sample: sample, tokens: [], finish: .maxNewTokens)
        rng[slot] = Self.rng(seed: seed, sample: sample)
        length[slot] = promptLength
        active[slot] = true
        if options.maxNewTokens == 0 { active[slot] = false; return }
        let token = samplers[0].sample(logits, vocab: samplers[0].vocabSize, options.sampling, rng: &rng[slot])
        record(slot: slot, token: token, options: options, capacity: capacity)
    }

    /// Hands back the finished sequence of `slot` and frees the slot.
    mutating func release(slot: Int) -> GeneratedSequence {
        precondition(!active[slot], "DecodeBatch.release: slot \(slot) is still decoding")
        defer { sequences[slot] = nil }
        return sequences[slot]!
    }

    /// Slots whose sequence has finished but not been released.
    var finishedSlots: [Int] { sequences.indices.filter { sequences[$0] != nil && !active[$0] } }

    /// One decoding step's sampling: row j of `logits` (active.count, V) belongs to slot activeSlots[j].
    /// Rows are sampled in parallel, each with its own slot's RNG, so the result does not depend on
    /// the split.
    mutating func appendAll(_ active: [Int], logits: UnsafePointer<Float>, options: GenerationOptions, capacity: Int) {
        let vocab = samplers[0].vocabSize, chunks = min(4 * samplers.count, active.count)
        var tokens = [Int32](repeating: 0, count: active.count)
        tokens.withUnsafeMutableBufferPointer { tokenBuffer in
            rng.withUnsafeMutableBufferPointer { rngBuffer in
                samplers.withUnsafeMutableBufferPointer { samplerBuffer in
                    let out = tokenBuffer, rngs = rngBuffer, threadSamplers = samplerBuffer   // disjoint rows per chunk
                    ThreadPool.shared.forEach(chunks: chunks) { c, thread in
                        for j in active.count * c / chunks..<active.count * (c + 1) / chunks {
                            out[j] = threadSamplers[thread].sample(logits + j * vocab, vocab: vocab, options.sampling, rng: &rngs[active[j]])
                        }
                    }
                }
            }
        }
        for (j, slot) in active.enumerated() { record(slot: slot, token: tokens[j], options: options, capacity: capacity) }
    }

    /// Appends `token` to `slot` and decides whether the sequence goes on.
    private mutating func record(slot: Int, token: Int32, options: GenerationOptions, capacity: Int) {
        sequences[slot]!.tokens.append(token)
        lastToken[slot] = token
        length[slot] += 1
        if options.stopTokens.contains(token) {
            sequences[slot]!.finish = .stopToken; active[slot] = false
        } else if sequences[slot]!.tokens.count >= options.maxNewTokens {
            sequences[slot]!.finish = .maxNewTokens; active[slot] = false
        } else if length[slot] >= capacity {
            sequences[slot]!.finish = .contextFull; active[slot] = false
        }
    }
}
