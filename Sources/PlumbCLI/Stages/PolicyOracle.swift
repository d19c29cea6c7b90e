// Judging a policy checkpoint with the task's oracle: sample one response per evaluation prompt (the
// chat template, batched decoding), then score with PlumbOracle. Lives in the CLI because training
// code must never import the oracle.
import Foundation
import PlumbData
import PlumbOracle
import PlumbStages
import PlumbTask

enum PolicyOracle {
    /// Responses of the policy in `model` to the prompts of a message-list JSONL file, ready to judge.
    static func responses(model: URL, tokenizer: URL, template: ChatTemplate, prompts: URL,
                          settings: SamplingSettings, seed: UInt64) throws -> [JudgedResponse] {
        let records = try loadPromptRecords(prompts)
        let policy = try StageModel.load(model)
        let sampler = try PolicySampler(model: policy, templated: try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: tokenizer.path), template: template))
        let responder: PolicyResponder = { texts in
            try sampler.respond(to: texts.map { [Message.user($0)] }, settings: settings, seed: seed).map { $0[0].text }
        }
        return try PolicyEvaluation.respond(to: records, with: responder)
    }

    /// The oracle's report on `model`'s responses.
    static func report(model: URL, tokenizer: URL, template: ChatTemplate, prompts: URL, settings: SamplingSettings, seed: UInt64) throws -> OracleReport {
        let judged = try responses(model: model, tokenizer: tokenizer, template: template, prompts: prompts, settings: settings, seed: seed)
        return OracleReport(try OracleReport.judge(judged))
    }

    static func loadPromptRecords(_ url: URL) throws -> [MessageRecord] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw CLIError("\(url.path): cannot read prompts (\(error.localizedDescription))")
        }
        var records: [MessageRecord] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            do { records.append(try JSONDecoder().decode(MessageRecord.self, from: Data(line.utf8))) } catch {
                throw CLIError("\(url.path) line \(i + 1): not a message-list record with \"id\", \"messages\", \"tags\": \(error)")
            }
        }
        return records
    }

    /// Writes judged responses as message-list JSONL (to keep beside a report, or for --versus).
    static func write(_ responses: [JudgedResponse], to url: URL) throws {
        struct Line: Encodable { let id: String; let messages: [[String: String]]; let tags: [String] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for r in responses {
            data += try encoder.encode(Line(id: r.id, messages: [["role": "user", "content": r.prompt], ["role": "assistant", "content": r.response]], tags: []))
            data.append(0x0A)
        }
        try data.write(to: url, options: .atomic)
    }
}
