// `plumb screen`: TigerBot's safety screen over shards of responses; thin over SafetyScreenStage.
import ArgumentParser
import Foundation
import PlumbData
import PlumbStages

struct ScreenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "screen",
        abstract: "Screen responses for harmful content: a lexicon for recall, then a safety reward model's gate for precision.",
        discussion: "Flagged records go to the output's quarantine set with the step that flagged them; passing records keep their set's name. On labelled responses, precision and recall of each step are printed.")
    @Option(name: .customLong("data"), help: "Stage directory or shard path to screen (repeatable).") var data: [String]
    @Option(help: "Word and phrase list, one entry a line (the built-in task writes safety-lexicon.txt).") var lexicon: String
    @Option(help: "Safety reward-model stage: the classifier step (without it the lexicon decides).") var model: String?
    @Option(help: "SentencePiece model (.model) of the classifier.") var tokenizer: String?
    @Option(help: "The classifier flags a response when sigmoid(score) is below this (Llama 2: 0.15).") var threshold: Double = 0.15
    @Option(name: .customLong("set"), help: "Output set to screen (repeatable; default: every demonstrations-*, comparisons-* and labelled-responses-* set).")
    var sets: [String] = []
    @Option(help: "Longest sequence scored (default: the model's window).") var seqLen: Int?
    @Option(help: "Chat template.") var template: ChatTemplate = .plumbline
    @OptionGroup var output: StageOutputOptions

    func validate() throws {
        guard (model == nil) == (tokenizer == nil) else { throw ValidationError("--model and --tokenizer go together") }
        guard threshold > 0, threshold < 1 else { throw ValidationError("--threshold must be in (0, 1)") }
    }

    func run() throws {
        var p = SafetyScreenStage.Parameters()
        p.outputs = sets
        p.threshold = threshold
        p.seqLen = seqLen
        p.template = template
        let inputs = StageInputs(["data": data.map(fileURL), "lexicon": [fileURL(lexicon)], "model": model.map { [fileURL($0)] } ?? [],
                                  "tokenizer": tokenizer.map { [fileURL($0)] } ?? []])
        let summary = try StageRun.run(SafetyScreenStage.self, p, inputs: inputs, location: output.location)
        if !summary.text.isEmpty { print(summary.text) }
        print("-> \(output.location.directory.path)")
    }
}
