// A small built-in-task fixture shared by the stage tests: the quick task, a tokenizer trained on its
// corpus, and its SFT demonstrations imported - made once per test process, through the CLI.
import Foundation
import PlumbModel
import XCTest
@testable import PlumbCLI

enum StageFixtures {
    struct Fixture {
        let root: URL
        let task: URL
        let tokenizer: URL
        let importSFT: URL
        let modelConfig: URL
    }

    static let shared: Result<Fixture, Error> = Result { try make() }

    static func fixture() throws -> Fixture { try shared.get() }

    /// Runs a `plumb` command line in this process.
    static func plumb(_ arguments: [String]) throws {
        var command = try PlumbCommand.parseAsRoot(arguments)
        try command.run()
    }

    private static func make() throws -> Fixture {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-stage-fixture-\(getpid())")
        try? FileManager.default.removeItem(at: root)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let task = root.appendingPathComponent("task")
        try plumb(["task", "generate", "--seed", "3", "--quick", "--out", task.path])
        let tokenizer = root.appendingPathComponent("spm")
        try plumb(["tokenizer", "train", "--input", task.appendingPathComponent("corpus.txt").path,
                   "--out", tokenizer.path, "--vocab-size", "512"])
        let importSFT = root.appendingPathComponent("runs/fixture/import-sft")
        try plumb(["import", task.appendingPathComponent("sft.jsonl").path, "--out", importSFT.path])
        // A small Llama: 2 layers, grouped-query attention (4 heads, 2 kv heads).
        let config = root.appendingPathComponent("model.json")
        try Data("""
        {"hidden_size": 32, "intermediate_size": 88, "num_hidden_layers": 2, "num_attention_heads": 4,
         "num_key_value_heads": 2, "vocab_size": 512, "max_position_embeddings": 64, "tie_word_embeddings": true}
        """.utf8).write(to: config)
        return Fixture(root: root, task: task, tokenizer: tokenizer.appendingPathComponent("spm.model"), importSFT: importSFT, modelConfig: config)
    }

    /// 48 of the task's comparisons imported (a quarter held out), a fresh 2-layer policy, and the
    /// runs root beside them: the inputs of the preference-optimisation stage tests.
    static func comparisonInputs() throws -> (tokenizer: URL, policy: URL, data: URL, runs: URL) {
        let f = try fixture()
        let root = f.root.appendingPathComponent("dpo-inputs")
        let runs = root.appendingPathComponent("runs")
        let data = runs.appendingPathComponent("r/import-comparisons")
        if !FileManager.default.fileExists(atPath: data.appendingPathComponent("manifest.json").path) {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            let lines = try String(contentsOf: f.task.appendingPathComponent("comparisons.jsonl"), encoding: .utf8).split(separator: "\n").prefix(48)
            let file = root.appendingPathComponent("comparisons.jsonl")
            try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
            try plumb(["import", file.path, "--out", data.path, "--validation-fraction", "0.25", "--test-fraction", "0"])
        }
        let policy = root.appendingPathComponent("policy")
        let config = LlamaConfig(dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: 512, maxSeqLen: 96)
        try LlamaModel(config: config, heads: .lm, seed: 8).save(to: policy)
        return (f.tokenizer, policy, data, runs)
    }
}
