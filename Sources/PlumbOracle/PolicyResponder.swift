// The extension point for `plumb eval oracle --policy CKPT`: something that answers prompts. The CLI
// plugs in a sampler over a trained checkpoint (PlumbModel's decoding, built by the model helper);
// tests plug in fixed responses. The oracle then judges what comes back.

import PlumbTask

/// Generates one response per prompt, in order.
public typealias PolicyResponder = ([String]) throws -> [String]

public enum PolicyEvaluation {
    /// Asks `responder` for a response to every prompt record and returns them ready to judge.
    public static func respond(to prompts: [MessageRecord], with responder: PolicyResponder) throws -> [JudgedResponse] {
        var texts: [String] = []
        for (i, record) in prompts.enumerated() {
            guard let prompt = record.prompt else { throw OracleInputError("prompt record \(i + 1) (id \(record.id)) has no user turn") }
            texts.append(prompt)
        }
        let responses = try responder(texts)
        guard responses.count == prompts.count else {
            throw OracleInputError("the policy returned \(responses.count) responses for \(prompts.count) prompts")
        }
        return zip(zip(prompts, texts), responses).map { JudgedResponse(id: $0.0.id, prompt: $0.1, response: $1) }
    }
}
