// Sampling shared out over the ranks of a distributed job: rank r decodes the prompts i ≡ r (mod N),
// each from the seed one process gives it, and every rank gets every response back in prompt order
// (gathered to rank 0, then broadcast). A response depends only on its prompt and seed, so the
// result is the one process's whatever N.
import Foundation
import PlumbData
import PlumbModel
import PlumbTensor

extension PolicySampler {
    public func respondSharded(to prompts: [[Message]], samples: Int = 1, settings: SamplingSettings, seeds: [UInt64],
                               world: any Communicator = Distributed.world) throws -> [[Response]] {
        guard world.size > 1 else { return try respond(to: prompts, samples: samples, settings: settings, seeds: seeds) }
        let gathered = try Sharding.gatherInOrder(count: prompts.count, world: world) { mine in
            try respond(to: mine.map { prompts[$0] }, samples: samples, settings: settings, seeds: mine.map { seeds[$0] })
                .map { $0.map(WireResponse.init) }
        }
        return try world.broadcast(gathered ?? [], root: 0).map { $0.map(\.response) }
    }
}

/// A response as it travels between ranks.
private struct WireResponse: Codable {
    var text: String
    var tokens: [Int32]
    var promptTokens: [Int32]
    var finish: String

    init(_ r: PolicySampler.Response) {
        text = r.text; tokens = r.tokens; promptTokens = r.promptTokens; finish = RejectionSample.stopName(r.finish)
    }

    var response: PolicySampler.Response {
        let reason: FinishReason = finish == "eos" ? .stopToken : finish == "context-full" ? .contextFull : .maxNewTokens
        return PolicySampler.Response(text: text, tokens: tokens, promptTokens: promptTokens, finished: reason == .stopToken, finish: reason)
    }
}
