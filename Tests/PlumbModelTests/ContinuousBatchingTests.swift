// Continuous batching (Generator.stream): with fewer slots than sequences, a finished sequence's slot
// is refilled with the next waiting prompt, and every sequence still gets exactly the tokens it gets
// decoded alone; sequences are handed out as they finish, each once.
import XCTest
@testable import PlumbModel
import PlumbTensor

final class ContinuousBatchingTests: XCTestCase {
    /// Prompts of varied length, k = 1...3 samples.
    func manyRequests() -> [GenerationRequest] {
        (0..<9).map { i in
            GenerationRequest(prompt: [1] + (0..<(i % 4 + 1)).map { Int32(10 + 37 * $0 + i) }, samples: i % 3 + 1, seed: UInt64(100 + i))
        }
    }

    func testFewSlotsRefilledEqualsEachRequestAlone() throws {
        let config = LlamaPreset.stories260k.config.with { $0.maxSeqLen = 64 }
        let model = try spreadModel(config, seed: 12)
        let requests = manyRequests()
        for sampling in [Sampling.greedy, .random(temperature: 1, topK: 0, topP: 1), .random(temperature: 0.7, topK: 16, topP: 0.9)] {
            // An eighth of the vocabulary stops a sequence, so lengths vary and slots are refilled mid-way.
            let options = GenerationOptions(maxNewTokens: 24, sampling: sampling, stopTokens: Set((0..<Int32(config.vocabSize / 8)).map { $0 }))
            var streamed: [GeneratedSequence] = []
            try Generator(config: config, weights: model.weights, maxSequences: 4).stream(requests, options: options) { streamed.append($0) }
            XCTAssertEqual(streamed.count, requests.reduce(0) { $0 + $1.samples })
            XCTAssertEqual(Set(streamed.map { "\($0.request)/\($0.sample)" }).count, streamed.count, "each sequence handed out once")
            for (r, request) in requests.enumerated() {
                let alone = try Generator(config: config, weights: model.weights, maxSequences: request.samples).generate([request], options: options)
                for s in 0..<request.samples {
                    let got = streamed.first { $0.request == r && $0.sample == s }!
                    XCTAssertEqual(got.tokens, alone[s].tokens, "\(sampling) request \(r) sample \(s)")
                    XCTAssertEqual(got.finish, alone[s].finish)
                }
            }
            // Sequences finish out of request order when lengths vary (the refill is exercised).
            let order = streamed.map(\.request)
            if case .random = sampling { XCTAssertNotEqual(order, order.sorted(), "\(sampling): finishing order") }
        }
    }
}
