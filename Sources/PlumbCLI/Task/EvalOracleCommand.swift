// `plumb eval oracle`: the oracle judge's report on a set of responses, and the win rate of one set
// over another. Evaluation only (PlumbOracle).

import ArgumentParser
import Foundation
import PlumbData
import PlumbEval
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

    @Option(help: "Prompts for --policy: message-list JSONL without assistant turns (e.g. eval-prompts.jsonl).")
    var prompts: String?

    @Flag(help: "Print one JSON object instead of a summary.")
    var json = false

    @Option(help: "With --policy: the stage directory (RUNS/RUN/STAGE) to write responses.jsonl and oracle.json into.")
    var out: String?

    @OptionGroup var decode: DecodeWeightsOption
    @OptionGroup var parallel: DistributedOptions

    func validate() throws {
        guard (responses == nil) != (policy == nil) else { throw ValidationError("give exactly one of --responses and --policy") }
        if policy != nil && (prompts == nil || tokenizer == nil || out == nil) { throw ValidationError("--policy needs --prompts, --tokenizer and --out") }
    }

    func run() throws {
        let evaluation: OracleEvaluation
        if let policy, let prompts, let tokenizer, let out {
            var p = OracleEvalStage.Parameters()
            (p.template, p.maxNewTokens, p.temperature, p.seed, p.weights) = (template, maxNewTokens, temperature, seed, decode.weights)
            let inputs = StageInputs(["policy": [fileURL(policy)], "tokenizer": [fileURL(tokenizer)], "prompts": [fileURL(prompts)],
                                      "versus": versus.map { [fileURL($0)] } ?? []])
            evaluation = try StageRun.run(OracleEvalStage.self, p, inputs: inputs, location: StageLocation(directory: fileURL(out)))
        } else {
            evaluation = try OracleEvaluation.judge(try ResponseFile.load(fileURL(responses!)), versus: try versus.map { try ResponseFile.load(fileURL($0)) })
        }
        if json {
            print(String(decoding: try evaluation.encoded(), as: UTF8.self))
            return
        }
        print(evaluation.summaryText)
    }
}
