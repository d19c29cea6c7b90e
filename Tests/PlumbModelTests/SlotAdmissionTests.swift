// Per-slot admission (SlotAdmission.swift): a prompt's k samples take slots as they free, so they
// start at different steps and k may exceed the slot count, yet every sample's tokens are the bits a
// naive generator gives it (one sequence at a time, its own cache slot, its own prefill), whatever
// the slot count and admission policy; and each prompt is still prefilled once.
import XCTest
@testable import PlumbModel
import PlumbTensor

final class SlotAdmissionTests: XCTestCase {
    let config = LlamaPreset.stories260k.config.with { $0.maxSeqLen = 64 }

    /// Prompts of varied length; k = 1, 5, 2, 7, 3 (more samples than 3 slots, more than 1).
    func requests() -> [GenerationRequest] {
        [1, 5, 2, 7, 3].enumerated().map { i, k in
            GenerationRequest(prompt: [1] + (0..<(i % 3 + 2)).map { Int32(20 + 41 * $0 + 3 * i) }, samples: k, seed: UInt64(500 + i))
        }
    }

    /// The reference: each (request, sample) decoded alone in a one-slot cache, prefilled by itself,
    /// one token per forward call, drawing from the RNG of (seed, sample) as DecodeBatch defines it.
    func naive(_ model: LlamaModel, _ request: GenerationRequest, sample: Int, options: GenerationOptions) throws -> GeneratedSequence {
        let cache = try KVCache(config: config, slots: 1, capacity: config.maxSeqLen)
        let step = try IncrementalForward(config: config, weights: model.weights, cache: cache, maxRows: config.maxSeqLen)
        let logits = Tensor(zeros: [1, config.vocabSize])
        var sampler = TokenSampler(vocabSize: config.vocabSize)
        var rng = DecodeBatch.rng(seed: request.seed, sample: sample)
        try step.forward(tokens: request.prompt, slots: [Int](repeating: 0, count: request.prompt.count),
                         positions: (0..<request.prompt.count).map(Int32.init), logitRows: [request.prompt.count - 1], logits: logits)
        var tokens: [Int32] = []
        while true {
            let token = sampler.sample(logits.pointer, vocab: config.vocabSize, options.sampling, rng: &rng)
            tokens.append(token)
            if options.stopTokens.contains(token) { return GeneratedSequence(request: 0, sample: sample, tokens: tokens, finish: .stopToken) }
            if tokens.count >= options.maxNewTokens { return GeneratedSequence(request: 0, sample: sample, tokens: tokens, finish: .maxNewTokens) }
            let position = request.prompt.count + tokens.count - 1
            if position + 1 >= cache.capacity { return GeneratedSequence(request: 0, sample: sample, tokens: tokens, finish: .contextFull) }
            try step.forward(tokens: [token], slots: [0], positions: [Int32(position)], logitRows: [0], logits: logits)
        }
    }

    func streamed(_ model: LlamaModel, slots: Int, admission: GenerationAdmission, options: GenerationOptions) throws -> (out: [GeneratedSequence], stats: GenerationStats) {
        let generator = try Generator(config: config, weights: model.weights, maxSequences: slots)
        generator.admission = admission
        var out: [GeneratedSequence] = []
        try generator.stream(requests(), options: options) { out.append($0) }
        return (out, generator.stats)
    }

    func testSamplesAreTheNaiveGeneratorsWhateverTheSlotsAndAdmission() throws {
        let model = try spreadModel(config, seed: 21)
        for sampling in [Sampling.greedy, .random(temperature: 1, topK: 0, topP: 1), .random(temperature: 0.8, topK: 24, topP: 0.9)] {
            // An eighth of the vocabulary stops a sequence, so lengths vary and slots free at different steps.
            let options = GenerationOptions(maxNewTokens: 20, sampling: sampling, stopTokens: Set((0..<Int32(config.vocabSize / 8)).map { $0 }))
            let reference = try requests().map { r in try (0..<r.samples).map { try naive(model, r, sample: $0, options: options) } }
            var runs: [(String, [GeneratedSequence], GenerationStats)] = []
            for slots in [1, 3, 8, 18] {
                let (out, stats) = try streamed(model, slots: slots, admission: .perSlot, options: options)
                runs.append(("per slot, \(slots) slots", out, stats))
            }
            let (whole, wholeStats) = try streamed(model, slots: 8, admission: .wholeRequest, options: options)
            runs.append(("whole request, 8 slots", whole, wholeStats))
            for (name, out, stats) in runs {
                XCTAssertEqual(out.count, 18, name)
                XCTAssertEqual(Set(out.map { "\($0.request)/\($0.sample)" }).count, 18, "\(name): each sequence handed out once")
                XCTAssertEqual(stats.prefilledPrompts, 5, "\(name): each prompt prefilled once")
                XCTAssertLessThanOrEqual(stats.prefillCalls, 5, name)
                for s in out {
                    XCTAssertEqual(s.tokens, reference[s.request][s.sample].tokens, "\(name), \(sampling): request \(s.request) sample \(s.sample)")
                    XCTAssertEqual(s.finish, reference[s.request][s.sample].finish, name)
                }
            }
            // One slot admits one prompt per round; 18 slots admit all five (3-5 tokens each) in the first
            // round, and they share one prefill call.
            XCTAssertEqual(runs[0].2.prefillCalls, 5, runs[0].0)
            XCTAssertEqual(runs[3].2.prefillCalls, 1, runs[3].0)
            if case .random = sampling {   // lengths vary, so the per-slot schedules differ from the whole-request one
                XCTAssertNotEqual(runs[1].1.map { "\($0.request)/\($0.sample)" }, whole.map { "\($0.request)/\($0.sample)" },
                                  "finishing order with 3 slots per slot against 8 slots whole-request")
            }
        }
    }

    /// Prompts admitted together share prefill calls up to the decoding kernel's 64 rows; a longer
    /// prompt goes alone through sgemm. Either way every sample is the naive generator's, bit for bit.
    func testPromptsSharePrefillCallsUpToTheKernelRows() throws {
        let long = LlamaPreset.stories260k.config.with { $0.maxSeqLen = 128 }
        let model = try spreadModel(long, seed: 23)
        let lengths = [70, 20, 40, 30]   // 70 alone (> 64 rows), 20 + 40 together, 30 alone (60 + 30 > 64)
        let requests = lengths.enumerated().map { i, n in
            GenerationRequest(prompt: [1] + (1..<n).map { Int32((7 * $0 + 13 * i) % 400 + 20) }, samples: 2, seed: UInt64(900 + i))
        }
        let options = GenerationOptions(maxNewTokens: 12, sampling: .random(temperature: 1, topK: 0, topP: 1),
                                        stopTokens: Set((0..<Int32(long.vocabSize / 8)).map { $0 }))
        let generator = try Generator(config: long, weights: model.weights, maxSequences: 8)
        let out = try generator.generate(requests, options: options)
        XCTAssertEqual(generator.stats.prefilledPrompts, 4)
        XCTAssertEqual(generator.stats.prefillCalls, 3, "70 | 20 + 40 | 30")
        for (i, request) in requests.enumerated() {   // each prompt alone: its own generator, its own call
            let alone = try Generator(config: long, weights: model.weights, maxSequences: 2)
            let reference = try alone.generate([request], options: options)
            XCTAssertEqual(alone.stats.prefillCalls, 1)
            for sample in 0..<2 {
                XCTAssertEqual(out[2 * i + sample].tokens, reference[sample].tokens, "request \(i) sample \(sample)")
            }
        }
    }

    /// Per-slot admission fills a slot the step after it frees; whole-request admission leaves it idle
    /// until k slots are free, so with k = 7 of 8 slots it runs more steps over fewer rows each.
    func testPerSlotAdmissionKeepsMoreSlotsBusy() throws {
        let model = try spreadModel(config, seed: 22)
        let options = GenerationOptions(maxNewTokens: 20, sampling: .random(temperature: 1, topK: 0, topP: 1),
                                        stopTokens: Set((0..<Int32(config.vocabSize / 8)).map { $0 }))
        let perSlot = try streamed(model, slots: 8, admission: .perSlot, options: options).stats
        let whole = try streamed(model, slots: 8, admission: .wholeRequest, options: options).stats
        XCTAssertEqual(perSlot.decodedRows, whole.decodedRows, "the same tokens decoded")
        XCTAssertLessThan(perSlot.decodeSteps, whole.decodeSteps)
    }

    func testWholeRequestAdmissionRefusesMoreSamplesThanSlots() throws {
        let model = try spreadModel(config, seed: 3)
        let generator = try Generator(config: config, weights: model.weights, maxSequences: 2)
        generator.admission = .wholeRequest
        XCTAssertThrowsError(try generator.stream([GenerationRequest(prompt: [1, 5], samples: 3, seed: 1)], options: GenerationOptions(maxNewTokens: 4)) { _ in })
        generator.admission = .perSlot
        var count = 0
        try generator.stream([GenerationRequest(prompt: [1, 5], samples: 3, seed: 1)], options: GenerationOptions(maxNewTokens: 4)) { _ in count += 1 }
        XCTAssertEqual(count, 3)
    }
}
