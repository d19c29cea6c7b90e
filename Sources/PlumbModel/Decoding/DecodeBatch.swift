// The bookkeeping of one batched generation: which slot holds which sequence, its length, its RNG,
// its tokens so far and whether it has finished.
import Foundation
import PlumbTensor

struct DecodeBatch {
    var sequences: [GeneratedSequence] = []   // one per slot
    var firstSlot: [Int] = []                 // per request
    var promptLogits: [[Float]]               // per request: logits after the prompt
    var lastToken: [Int32] = []               // per slot: the token to feed next
    var length: [Int] = []                    // per slot: positions filled after feeding lastToken
    var rng: [SeededRNG] = []        // per slot: its own stream, seeded from (request seed, sample index)
    var finished: [Bool] = []
    var samplers: [TokenSampler]              // one per core, for sampling rows in parallel

    init(requests: [GenerationRequest], vocab: Int) throws {
        promptLogits = [[Float]](repeating: [], count: requests.count)
        samplers = [TokenSampler](repeating: TokenSampler(vocabSize: vocab), count: ThreadPool.shared.threads)
        for (r, request) in requests.enumerated() {
            firstSlot.append(sequences.count)
            for s in 0..<request.samples {
                sequences.append(GeneratedSequence(request: r, sample: s, tokens: [], finish: .maxNewTokens))
                rng.append(SeededRNG(seed: request.seed ^ (UInt64(s) &* 0x9E37_79B9_7F4A_7C15)))
                lastToken.append(0); length.append(request.prompt.count); finished.append(false)
            }
        }
    }

    var activeSlots: [Int] { (0..<sequences.count).filter { !finished[$0] } }

    /// Every sample of a prompt draws its first token from the prompt's logits.
    mutating func sampleFirstTokens(options: GenerationOptions, capacity: Int) throws {
        for slot in 0..<sequences.count {
            let r = sequences[slot].request
            promptLogits[r].withUnsafeBufferPointer { p in
                append(slot: slot, logits: p.baseAddress!, options: options, capacity: capacity)
            }
        }
        promptLogits = []
    }

    /// Samples the next token of `slot` from `logits` and decides whether the sequence goes on.
    mutating func append(slot: Int, logits: UnsafePointer<Float>, options: GenerationOptions, capacity: Int) {
        if options.maxNewTokens == 0 { finished[slot] = true; return }
        let token = samplers[0].sample(logits, vocab: samplers[0].vocabSize, options.sampling, rng: &rng[slot])
        record(slot: slot, token: token, options: options, capacity: capacity)
    }

    /// One decoding step's sampling: row j of `logits` (active.count, V) belongs to slot active[j].
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
        sequences[slot].tokens.append(token)
        lastToken[slot] = token
        length[slot] += 1
        if options.stopTokens.contains(token) {
            sequences[slot].finish = .stopToken; finished[slot] = true
        } else if sequences[slot].tokens.count >= options.maxNewTokens {
            sequences[slot].finish = .maxNewTokens; finished[slot] = true
        } else if length[slot] >= capacity {
            sequences[slot].finish = .contextFull; finished[slot] = true
        }
    }
}
