// `plumb eval oracle` as a stage: a policy's greedy (or sampled) answers to the task's evaluation
// prompts, judged by the oracle (helpfulness, violations, false refusals, length), and the win rate
// over another policy's answers (`versus`). Writes `responses.jsonl` and `oracle.json`; the summary
// is the `OracleEvaluation` the main job's table and the report read.
import Foundation
import PlumbData
import PlumbModel
import PlumbOracle
import PlumbStages
import PlumbStore
import PlumbTensor

extension StageKind {
    public static let evalOracle: StageKind = "eval oracle"
}

public enum OracleEvalStage: Stage {
    public static let kind = StageKind.evalOracle
    public static let abstract = "Judge a policy's answers to the evaluation prompts with the task's oracle: helpfulness, violations, false refusals, win rate."
    public static let rerun = StageRerun.replace
    public static let slots = [
        InputSlot("policy", .one, "A training stage or Hugging Face directory to answer with."),
        InputSlot("tokenizer", .one, "SentencePiece model of the policy."),
        InputSlot("prompts", .one, "Prompts: message-list JSONL without assistant turns (eval-prompts.jsonl)."),
        InputSlot("versus", .optional, "Another policy's responses (same ids): the win rate over them."),
    ]

    public struct Parameters: StageParameters, Equatable {
        public var template: ChatTemplate = .plumbline
        /// Most new tokens per answer.
        public var maxNewTokens = 64
        /// 0 decodes greedily.
        public var temperature: Float = 0
        public var seed: UInt64 = 1
        /// The decoder's weights: fp32, or 8-bit blocks (W8A32).
        public var weights: DecodeWeightFormat = .f32
        /// The policy's name in the main job's results table (MainJobResults), or none. Left out of the
        /// parameters' JSON when absent, so a stage without it keeps its cache key.
        public var title: String?
        public init() {}
        public var manifestSeed: UInt64? { seed }
        public func validate() throws {
            guard maxNewTokens > 0 else { throw StageParameterError("max-new-tokens", "must be > 0") }
            guard temperature >= 0 else { throw StageParameterError("temperature", "must be >= 0") }
        }
    }

    public struct Loaded {
        var policy: URL, tokenizer: URL, prompts: URL
        var versus: [JudgedResponse]?
    }

    public static func prepare(_ parameters: Parameters, inputs: StageInputs, log: @escaping (String) -> Void) throws -> Prepared<Loaded> {
        let policy = try inputs.one("policy"), tokenizer = try inputs.one("tokenizer"), prompts = try inputs.one("prompts")
        let versus = try inputs.optional("versus").map { try ResponseFile.load($0) }
        return Prepared(Loaded(policy: policy, tokenizer: tokenizer, prompts: prompts, versus: versus),
                        files: [StageModel.inputFile(policy), tokenizer, prompts] + (inputs.optional("versus").map { [$0] } ?? []))
    }

    public static func execute(_ loaded: Loaded, parameters: Parameters, stage: StageContext) throws -> OracleEvaluation {
        let answered = try PolicyOracle.answer(model: loaded.policy, tokenizer: loaded.tokenizer, template: parameters.template, prompts: loaded.prompts,
                                               settings: SamplingSettings(temperature: parameters.temperature, maxNewTokens: parameters.maxNewTokens, weights: parameters.weights),
                                               seed: parameters.seed)
        let evaluation = try OracleEvaluation.judge(PolicyOracle.judged(answered), versus: loaded.versus)
        if Distributed.world.isRoot {
            try ResponseFile.write(answered, to: stage.directory.appendingPathComponent(OracleEvaluation.responsesFile))
            try evaluation.encoded().write(to: stage.directory.appendingPathComponent(OracleEvaluation.file), options: .atomic)
            try stage.recordWrittenFiles()
        }
        return evaluation
    }
}

/// What the oracle says of a set of responses: `oracle.json` of an evaluation stage, the summary of
/// its manifest, and `plumb eval oracle --json`'s output.
public struct OracleEvaluation: StageSummary {
    public var report: OracleReport
    public var versus: WinRateReport?

    public static let file = "oracle.json"
    public static let responsesFile = "responses.jsonl"

    public static func judge(_ items: [JudgedResponse], versus: [JudgedResponse]?) throws -> OracleEvaluation {
        OracleEvaluation(report: OracleReport(try OracleReport.judge(items)), versus: try versus.map { try WinRateReport(a: items, b: $0) })
    }

    /// The figures the manifest's metrics hold: each rate as `oracle/NAME` (PPO's judge uses the same names).
    public var metrics: [String: Double] {
        var out: [String: Double] = ["responses": Double(report.responses)]
        for (name, rate) in [("helpfulness", report.helpfulness), ("violations", report.violation), ("false_refusals", report.falseRefusal)] {
            out["oracle/\(name)"] = rate.rate
        }
        if let versus { out["win_rate"] = versus.winRate.rate }
        return out.filter { $0.value.isFinite }
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }

    public static func read(_ directory: URL) throws -> OracleEvaluation {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(OracleEvaluation.self, from: Data(contentsOf: directory.appendingPathComponent(file)))
    }
}
