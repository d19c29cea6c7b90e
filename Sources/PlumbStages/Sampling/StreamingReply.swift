// A chat reply decoded token by token (`plumb chat`): the text handed on as it grows, so a reader sees
// it arrive. A token whose text is not yet whole (a UTF-8 character cut between byte pieces) waits
// for the next one.
import Foundation
import PlumbData
import PlumbTensor

extension StreamingDecoder {
    /// Decodes a reply to `prompt` until a stop token or `settings.maxNewTokens`, calling `onText`
    /// with each new piece of text; returns the whole reply.
    public func reply(to prompt: [Int32], settings: SamplingSettings, templated: TemplatedTokenizer, rng: inout SeededRNG,
                      onText: (Substring) -> Void) throws -> String {
        var tokens: [Int32] = []
        var shown = ""
        let stops = PolicySampler.stopTokens(templated, model.config)
        try decode(prompt: prompt, settings: settings, stops: stops, rng: &rng) { token in
            guard !stops.contains(token) else { return }
            tokens.append(token)
            let text = try templated.tokenizer.decode(tokens)
            if text.hasPrefix(shown) {
                onText(text.dropFirst(shown.count))
                shown = text
            }
        }
        let reply = try templated.tokenizer.decode(tokens)
        if reply.count > shown.count, reply.hasPrefix(shown) { onText(reply.dropFirst(shown.count)) }
        return reply
    }
}
