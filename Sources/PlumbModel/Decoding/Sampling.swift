// Choosing the next token from a row of logits: greedy, or a draw at a temperature restricted to the
// top k tokens and / or the nucleus of probability mass top_p (Holtzman et al. 2020), in Hugging Face
// transformers' order (TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper; vLLM's too):
//   1. temperature:  p_i = softmax(logits / temperature)_i
//   2. top-k:        keep the k most probable tokens (ties to the lower id); K = their mass
//   3. top-p:        keep the smallest set of the most probable of those whose mass >= top_p * K
//                    (the nucleus is measured within the top-k distribution, renormalised)
//   4. renormalise over what is kept; draw u ~ U[0, 1) and invert the cumulative sum.
// Only a kept token can be drawn: when rounding leaves the cumulative sum below the target, the draw
// is the last kept token (the last one with non-zero probability when nothing is cut).
// Ties in greedy go to the lowest token id (run.c `sample_argmax`).
import Foundation
import PlumbTensor

/// How the next token is chosen.
public enum Sampling: Equatable, Sendable {
    case greedy
    /// topK 0 keeps every token; topP 1 keeps all of the mass.
    case random(temperature: Float, topK: Int, topP: Float)

    public func validate() throws {
        guard case let .random(temperature, topK, topP) = self else { return }
        guard temperature > 0, topK >= 0, topP > 0, topP <= 1 else {
            throw ConfigError("sampling: need temperature > 0, top_k >= 0, 0 < top_p <= 1; got \(temperature), \(topK), \(topP)")
        }
    }
}

/// Reusable scratch for sampling one row at a time.
public struct TokenSampler {
    public let vocabSize: Int
    private var probabilities: [Float]
    private var candidates: [Int32]

    public init(vocabSize: Int) {
        self.vocabSize = vocabSize
        probabilities = [Float](repeating: 0, count: vocabSize)
        candidates = []
        candidates.reserveCapacity(vocabSize)
    }

    public mutating func sample(_ logits: UnsafePointer<Float>, vocab: Int, _ sampling: Sampling, rng: inout SeededRNG) -> Int32 {
        switch sampling {
        case .greedy:
            return Self.argmax(logits, vocab)
        case let .random(temperature, topK, topP):
            return draw(logits, vocab: vocab, temperature: temperature, topK: topK, topP: topP, u: rng.uniform())
        }
    }

    /// The first index of the largest logit (ties to the lowest id): the maximum eight lanes at a
    /// time, then the first index that holds it. Without any number (all NaN) the answer is 0.
    static func argmax(_ logits: UnsafePointer<Float>, _ vocab: Int) -> Int32 {
        var lanes = SIMD8<Float>(repeating: -.infinity)
        var i = 0
        while i + 8 <= vocab {
            let v = UnsafeRawPointer(logits + i).loadUnaligned(as: SIMD8<Float>.self)
            lanes = lanes.replacing(with: v, where: v .> lanes)
            i += 8
        }
        var top = lanes.max()
        while i < vocab { if logits[i] > top { top = logits[i] }; i += 1 }
        for j in 0..<vocab where logits[j] == top { return Int32(j) }
        return 0
    }

    /// The first i whose cumulative sum p_0 + ... + p_i exceeds `target`: whole blocks of 64 are
    /// skipped by their (vector) sums, the block that crosses is scanned one by one. When rounding
    /// leaves the whole sum at or below `target`, the last i with p_i > 0.
    static func invertCumulative(_ p: UnsafePointer<Float>, _ vocab: Int, target: Float) -> Int32 {
        var cumulative: Float = 0
        var i = 0
        while i + 64 <= vocab {
            var block = SIMD8<Float>()
            for j in stride(from: i, to: i + 64, by: 8) { block += UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Float>.self) }
            let mass = block.sum()
            if cumulative + mass > target { break }
            cumulative += mass
            i += 64
        }
        while i < vocab {
            cumulative += p[i]
            if cumulative > target { return Int32(i) }
            i += 1
        }
        var last = vocab - 1
        while last > 0 && !(p[last] > 0) { last -= 1 }
        return Int32(last)
    }

    mutating func draw(_ logits: UnsafePointer<Float>, vocab: Int, temperature: Float, topK: Int, topP: Float, u: Float) -> Int32 {
        let total = temperatureProbabilities(logits, vocab: vocab, temperature: temperature)
        if (topK == 0 || topK >= vocab) && topP >= 1 {
            // Plain temperature: invert the cumulative sum over the whole vocabulary.
            return probabilities.withUnsafeBufferPointer { Self.invertCumulative($0.baseAddress!, vocab, target: u * total) }
        }
        let keep = selectKept(vocab: vocab, total: total, topK: topK, topP: topP)
        let p = probabilities
        let kept = candidates[0..<keep].reduce(Float(0)) { $0 + p[Int($1)] }
        let target = u * kept
        var cumulative: Float = 0
        for j in 0..<keep {
            cumulative += p[Int(candidates[j])]
            if cumulative > target { return candidates[j] }
        }
        return candidates[keep - 1]
    }

    /// Fills `probabilities` with exp((z_i - max z) / T), unnormalised; returns their sum.
    private mutating func temperatureProbabilities(_ logits: UnsafePointer<Float>, vocab: Int, temperature: Float) -> Float {
        let inv = 1 / temperature
        var total: Float = 0
        probabilities.withUnsafeMutableBufferPointer { p in
            for i in 0..<vocab { p[i] = logits[i] * inv }
            let base = p.baseAddress!
            total = FastMath.expShifted(base, base, vocab, shift: FastMath.max(base, vocab))
        }
        return total
    }

    /// Leaves in `candidates[0..<n]` the tokens top-k then top-p keep, most probable first (ties by
    /// id), and returns n (at least 1).
    private mutating func selectKept(vocab: Int, total: Float, topK: Int, topP: Float) -> Int {
        let p = probabilities
        let k = topK > 0 ? min(topK, vocab) : vocab
        candidates.removeAll(keepingCapacity: true)
        let before: (Int32, Int32) -> Bool = { p[Int($0)] != p[Int($1)] ? p[Int($0)] > p[Int($1)] : $0 < $1 }
        if k <= 64 {
            // Top-k by insertion into a short sorted list.
            for i in 0..<Int32(vocab) {
                if candidates.count == k, !before(i, candidates[k - 1]) { continue }
                var j = candidates.count
                if j == k { candidates.removeLast(); j -= 1 }
                while j > 0, before(i, candidates[j - 1]) { j -= 1 }
                candidates.insert(i, at: j)
            }
        } else {
            // Without top-k, a token below (1 - top_p) / (V - 1) of the mass cannot be in the nucleus
            // (run.c's pre-filter); with a large k every token is a candidate.
            let floor = topK == 0 && topP < 1 ? (1 - topP) / Float(vocab - 1) * total : 0
            for i in 0..<vocab where p[i] >= floor { candidates.append(Int32(i)) }
            candidates.sort(by: before)
            if candidates.count > k { candidates.removeLast(candidates.count - k) }
        }
        guard topP < 1 else { return candidates.count }
        // The nucleus within the top-k mass (the whole mass when there is no top-k).
        let topKMass = k == vocab ? total : candidates.reduce(Float(0)) { $0 + p[Int($1)] }
        var mass: Float = 0
        for j in candidates.indices {
            mass += p[Int(candidates[j])]
            if mass >= topP * topKMass { return j + 1 }
        }
        return candidates.count
    }
}
