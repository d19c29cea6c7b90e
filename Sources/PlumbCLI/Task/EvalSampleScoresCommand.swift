// `plumb eval sample-scores`: the flags of SampleScores (PlumbEval), its rows as a JSONL file: each
// sample of an rs stage with the oracle's verdict, its stored scores and further reward models' scores.
import ArgumentParser
import Foundation
import PlumbData
import PlumbEval
import PlumbOracle
import PlumbStages

struct EvalSampleScoresCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample-scores",
        abstract: "Each sample of an rs stage with the oracle's verdict, its stored scores and further reward models' scores (JSONL).")
    @Option(help: "An rs stage directory.") var samples: String
    @Option(help: "SentencePiece model of the policy and the reward models (needed with --model).") var tokenizer: String?
    @Option(help: "Chat template.") var template: ChatTemplate = .plumbline
    @Option(help: "A reward model to score every sample with, as NAME=STAGE_DIR (repeatable).") var model: [String] = []
    @Option(help: "For every --model that is an ensemble (rm train --ensemble), also write each member's raw score as NAME#i and the score under this conservative rule as NAME@RULE (repeatable): mean, mean-minus-std:LAMBDA, worst, uncertainty-weighted:LAMBDA.")
    var conservative: [String] = []
    @Option(help: "Output JSONL file.") var out: String

    func validate() throws {
        if !model.isEmpty && tokenizer == nil { throw ValidationError("--model needs --tokenizer") }
        for c in conservative { _ = try parseConservative(c) }
        for m in model where Self.parse(m) == nil { throw ValidationError("--model '\(m)': expected NAME=STAGE_DIR") }
    }

    static func parse(_ spec: String) -> (name: String, dir: URL)? {
        guard let eq = spec.firstIndex(of: "="), eq != spec.startIndex, spec.index(after: eq) != spec.endIndex else { return nil }
        return (String(spec[..<eq]), URL(fileURLWithPath: String(spec[spec.index(after: eq)...])))
    }

    func run() throws {
        let rows = try SampleScores.rows(stage: URL(fileURLWithPath: samples).standardizedFileURL, tokenizer: tokenizer.map(fileURL),
                                         template: template, models: model.compactMap(Self.parse).map { SampleScores.Model(name: $0.name, directory: $0.dir) },
                                         conservative: try conservative.map(parseConservative)) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        try SampleScores.write(rows, to: URL(fileURLWithPath: out))
    }
}
