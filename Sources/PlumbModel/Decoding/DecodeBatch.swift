// The bookkeeping of one batched generation: which slot holds which sequence, its length, its RNG,
// its tokens so far and whether it has finished.
import PlumbTensor

struct DecodeBatch {
    var sequences: [GeneratedSequence] = []   // one per slot
    var firstSlot: [Int] = []                 // per request
    var promptLogits: [[Float]]               // per request: logits after the prompt
    var lastToken: [Int32] = []               // per slot: the token to feed next
    var length: [Int] = []                    // per slot: positions filled after feeding lastToken
    var rng: [SeededRNG] = []        // per slot: its own stream, seeded from (request seed, sample index)
    var finished: [Bool] = []
    var sampler: TokenSampler

    init(requests: [GenerationRequest], vocab: Int) throws {
        promptLogits = [[Float]](repeating: [], count: requests.count)
        sampler = TokenSampler(vocabSize: vocab)
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
        let token = sampler.sample(logits, vocab: sampler.vocabSize, options.sampling, rng: &rng[slot])
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
