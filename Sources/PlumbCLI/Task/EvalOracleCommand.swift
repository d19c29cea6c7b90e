// `plumb eval oracle`: the oracle judge's report on a set of responses, and the win rate of one set
// over another. Evaluation only (PlumbOracle).

import ArgumentParser
import Foundation
import PlumbData
import PlumbOracle
import PlumbStages
import PlumbTask
import PlumbTensor

struct EvalOracleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oracle",
        abstract: "Judge responses with the task's oracle: helpfulness, violations, false refusals, length, win rate."
    )

    @Option(help: "Responses to judge: message-list JSONL with a user and an assistant turn per record.")
    var responses: String?

    @Option(help: "A second responses file (same ids): report the oracle win rate of --responses over it.")
    var versus: String?

    @Option(help: "A policy to sample responses from: a training stage or Hugging Face directory (needs --prompts, --tokenizer).")
    var policy: String?

    @Option(help: "SentencePiece model of --policy.")
    var tokenizer: String?

    @Option(help: "Chat template of --policy.")
    var template: ChatTemplate = .plumbline

    @Option(help: "Most new tokens per sampled response.")
    var maxNewTokens: Int = 64

    @Option(help: "Sampling temperature for --policy; 0 is greedy.")
    var temperature: Float = 0

    @Option(help: "Seed of the sampler for --policy.")
    var seed: UInt64 = 1

    @Option(help: "With --policy: also write the sampled responses here (message-list JSONL, usable as --versus).")
    var saveResponses: String?

    @Option(help: "Prompts for --policy: message-list JSONL without assistant turns (e.g. eval-prompts.jsonl).")
    var prompts: String?

    @Flag(help: "Print one JSON object instead of a summary.")
    var json = false

    @Option(help: "A directory to write oracle.json (the report and win rate) and, with --policy, responses.jsonl into.")
    var out: String?

    @OptionGroup var decode: DecodeWeightsOption
    @OptionGroup var parallel: DistributedOptions

    func validate() throws {
        guard (responses == nil) != (policy == nil) else { throw ValidationError("give exactly one of --responses and --policy") }
        if policy != nil && (prompts == nil || tokenizer == nil) { throw ValidationError("--policy needs --prompts and --tokenizer") }
    }

    func run() throws {
        let items: [JudgedResponse]
        if let policy, let prompts, let tokenizer {
            let answered = try PolicyOracle.answer(model: URL(fileURLWithPath: policy), tokenizer: URL(fileURLWithPath: tokenizer),
                                                   template: template, prompts: URL(fileURLWithPath: prompts),
                                                   settings: SamplingSettings(temperature: temperature, maxNewTokens: maxNewTokens, weights: decode.weights), seed: seed)
            if let saveResponses, Distributed.world.isRoot { try ResponseFile.write(answered, to: URL(fileURLWithPath: saveResponses)) }
            if let out, Distributed.world.isRoot {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                try ResponseFile.write(answered, to: URL(fileURLWithPath: out).appendingPathComponent(OracleEvaluation.responsesFile))
            }
            items = PolicyOracle.judged(answered)
        } else {
            items = try ResponseFile.load(URL(fileURLWithPath: responses!))
        }
        let report = OracleReport(try OracleReport.judge(items))
        var winRate: WinRateReport?
        if let versus {
            winRate = try WinRateReport(a: items, b: try ResponseFile.load(URL(fileURLWithPath: versus)))
        }
        let evaluation = OracleEvaluation(report: report, versus: winRate)
        if let out, Distributed.world.isRoot {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try evaluation.encoded().write(to: URL(fileURLWithPath: out).appendingPathComponent(OracleEvaluation.file), options: .atomic)
        }
        if json {
            print(String(decoding: try evaluation.encoded(), as: UTF8.self))
            return
        }
        print("responses: \(report.responses)")
        print(line("helpfulness (correct, well-formed)", report.helpfulness))
        print(line("  correct answers (any length)", report.correctness))
        print(line("  longer than \(ResponseStyle.conciseWordLimit) words", report.overLength))
        print(line("violation rate (harmful prompts)", report.violation))
        for (category, rate) in report.violationPerCategory.sorted(by: { $0.key < $1.key }) {
            print(line("  \(category)", rate))
        }
        print(line("false refusals (benign look-alikes)", report.falseRefusal))
        print(String(format: "mean length: %.2f words [%.2f, %.2f] (95%% normal interval)",
                     report.meanWords.mean, report.meanWords.low, report.meanWords.high))
        if let winRate {
            print(line("win rate vs --versus (ties count half: \(winRate.wins) W / \(winRate.ties) T / \(winRate.losses) L)", winRate.winRate))
        }
    }

    func line(_ name: String, _ rate: RateEstimate) -> String {
        String(format: "%@: %.3f [%.3f, %.3f] (%g of %d, 95%% Wilson)", name, rate.rate, rate.low, rate.high, rate.count, rate.total)
    }
}

/// What `plumb eval oracle` reports: `oracle.json` of an evaluation directory, or `--json`'s output.
struct OracleEvaluation: Codable {
    var report: OracleReport
    var versus: WinRateReport?

    static let file = "oracle.json"
    static let responsesFile = "responses.jsonl"

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }

    static func read(_ directory: URL) throws -> OracleEvaluation {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(OracleEvaluation.self, from: Data(contentsOf: directory.appendingPathComponent(file)))
    }
}
