// `plumb demo`: the main job on the built-in task, end to end, as a user would run it command by
// command: generate the task, import its files, train the tokenizer, pretrain a small base, SFT,
// then evaluate with the oracle (held-out prompts) and print one results table. Completed stages are
// skipped and killed training stages resume, so rerunning the command finishes an interrupted job.
import ArgumentParser
import Foundation
import PlumbOracle
import PlumbStages
import PlumbStore

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Run the main job on the built-in task and print a results table.")

    @Option(help: "Directory of runs.") var runs = "runs"
    @Option(name: .customLong("run"), help: "Run name (default: demo, or demo-quick with --quick).") var runName: String?
    @Option(help: "Seed of the task, the data order and the weights.") var seed: UInt64 = 1
    @Flag(help: "Small sizes: a smoke test of every step (CI).") var quick = false

    func run() throws {
        let settings = quick ? MainJobSettings.quick : MainJobSettings.standard
        let root = URL(fileURLWithPath: runs).appendingPathComponent(runName ?? (quick ? "demo-quick" : "demo")).standardizedFileURL
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try MainJobStamp(seed: seed, settings: settings).claim(root)
        let steps = MainJobSteps()
        let paths = MainJobPaths(root: root)

        try steps.run("generate task") {
            if FileManager.default.fileExists(atPath: paths.task.appendingPathComponent("task.json").path) { return }
            try steps.plumb(["task", "generate", "--seed", "\(seed)", "--preset", settings.taskPreset, "--out", paths.task.path])
        }
        try steps.run("train tokenizer") {
            if FileManager.default.fileExists(atPath: paths.tokenizer.path) { return }
            try FileManager.default.createDirectory(at: paths.tokenizer.deletingLastPathComponent(), withIntermediateDirectories: true)
            try steps.plumb(["tokenizer", "train", "--input", paths.taskFile("corpus.txt"), "--vocab-size", "\(settings.tokenizerVocab)",
                             "--out", paths.tokenizer.deletingPathExtension().path])
        }
        try importTaskFiles(paths, steps: steps)
        try trainPolicy(settings, paths: paths, steps: steps)
        try trainRewardModels(settings, paths: paths, steps: steps)
        try rejectionSampling(settings, paths: paths, steps: steps)
        try directPreferenceOptimisation(settings, paths: paths, steps: steps)
        try proximalPolicyOptimisation(settings, paths: paths, steps: steps)
        var results = try evaluate(settings, paths: paths, steps: steps)
        results.rewardModels = try evaluateRewardModels(settings, paths: paths, steps: steps)
        results.bestOfK = try bestOfK(settings, paths: paths, steps: steps)
        results.ppoCurve = try PPOCurvePoint.read(paths.stage("ppo"))
        results.humanRoutes = try StageManifest.read(from: paths.stage("rs-human")).metrics
        let report = MainJobReport(run: root.path, seed: seed, settings: settings, steps: steps.figures, results: results)
        try report.write(to: root.appendingPathComponent("results.json"))
        print(report.text(stepTable: steps.table()))
        print("Report: \(try ReportCommand.write([root.path], out: nil).path)")
    }

    private func importTaskFiles(_ paths: MainJobPaths, steps: MainJobSteps) throws {
        // The annotations enter as user data would: TRL JSONL and Label Studio exports. The noise-free
        // oracle-labelled pairs (rm-eval) are all held out: every one goes to the test split.
        let imports: [(stage: String, file: String, extra: [String])] = [
            ("import-sft", "sft.jsonl", []), ("import-edits", "edits.json", ["--label-config", paths.taskFile("edits-config.xml")]),
            ("import-comparisons", "comparisons.jsonl", []),
            ("import-rankings", "rankings.json", ["--label-config", paths.taskFile("rankings-config.xml")]),
            ("import-rm-eval", "rm-eval.jsonl", ["--validation-fraction", "0", "--test-fraction", "1"]),
            ("import-prompts-rs", "prompts-rs.jsonl", ["--validation-fraction", "0", "--test-fraction", "0"]),
            ("import-eval-prompts", "eval-prompts.jsonl", ["--validation-fraction", "0", "--test-fraction", "1"]),
            ("import-prompts-ppo", "prompts-ppo.jsonl", ["--validation-fraction", "0", "--test-fraction", "0"]),
        ]
        for item in imports {
            let out = paths.stage(item.stage)
            try steps.run(item.stage, stage: out) {
                try steps.plumb(["import", paths.taskFile(item.file), "--out", out.path] + item.extra)
            }
        }
    }

    private func trainPolicy(_ s: MainJobSettings, paths: MainJobPaths, steps: MainJobSteps) throws {
        let configFile = paths.root.appendingPathComponent("model-config.json")
        try s.modelConfigJSON().write(to: configFile)
        let common = ["--tokenizer", paths.tokenizer.path, "--seq-len", "\(s.seqLen)", "--rows", "\(s.rows)", "--seed", "\(seed)"]
        try steps.run("pretrain", stage: paths.stage("pretrain")) {
            try steps.plumb(["pretrain", "--text", paths.taskFile("corpus.txt"), "--init-from", "tiny", "--config", configFile.path,
                             "--init-seed", "\(seed)", "--epochs", "\(s.pretrainEpochs)", "--lr", "\(s.pretrainLearningRate)",
                             "--eval-every", "100", "--out", paths.stage("pretrain").path] + common)
        }
        try steps.run("sft", stage: paths.stage("sft")) {
            try steps.plumb(["sft", "--data", paths.stage("import-sft").path, "--data", paths.stage("import-edits").path,
                             "--init-from", paths.stage("pretrain").path, "--epochs", "\(s.sftEpochs)", "--lr", "\(s.sftLearningRate)",
                             "--eval-every", "50", "--out", paths.stage("sft").path] + common)
        }
    }

    /// Llama 2's two reward models, each from the SFT checkpoint, on the imported comparisons
    /// (annotator pairs, ranking-derived pairs, edit-derived pairs) with its mixture; the score adds
    /// beta times the model's own log-likelihood of the response (RewardLikelihoodTerm), as
    /// RewardModelSettings says.
    private func trainRewardModels(_ s: MainJobSettings, paths: MainJobPaths, steps: MainJobSteps) throws {
        for dimension in ["helpfulness", "safety"] {
            let out = paths.stage("rm-\(dimension)")
            let model = dimension == "safety" ? s.safetyModel : s.helpfulnessModel
            try steps.run("rm train \(dimension)", stage: out) {
                try steps.plumb(["rm", "train", "--tokenizer", paths.tokenizer.path, "--init-from", paths.stage("sft").path,
                                 "--data", paths.stage("import-comparisons").path, "--data", paths.stage("import-rankings").path,
                                 "--data", paths.stage("import-edits").path, "--dimension", dimension,
                                 "--seq-len", "\(s.seqLen)", "--rows", "\(s.rows)", "--epochs", "\(s.rewardEpochs)",
                                 "--lr", "\(s.rewardLearningRate)"] + model.arguments + [
                                 "--seed", "\(seed)", "--eval-every", "100", "--out", out.path])
            }
        }
    }

    /// The rs stage's arguments: the SFT policy and both reward models on `prompts`.
    private func rsArguments(_ paths: MainJobPaths, prompts: String, k: Int, temperature: Float, maxNewTokens: Int, out: String) -> [String] {
        ["rs", "--tokenizer", paths.tokenizer.path, "--policy", paths.stage("sft").path, "--helpfulness", paths.stage("rm-helpfulness").path,
         "--safety", paths.stage("rm-safety").path, "--prompts", paths.stage(prompts).path, "--k", "\(k)", "--temperature", "\(temperature)",
         "--max-new-tokens", "\(maxNewTokens)", "--seed", "\(seed)", "--out", paths.stage(out).path]
    }

    /// Rejection sampling from the SFT policy on the RS prompts, then the RS policy: SFT from the SFT
    /// policy on the best samples mixed with the SFT demonstrations and edits.
    private func rejectionSampling(_ s: MainJobSettings, paths: MainJobPaths, steps: MainJobSteps) throws {
        let rs = s.rejectionSampling
        try steps.run("rs", stage: paths.stage("rs")) {
            try steps.plumb(rsArguments(paths, prompts: "import-prompts-rs", k: rs.k, temperature: rs.temperature,
                                        maxNewTokens: s.evalMaxNewTokens, out: "rs")
                            + ["--human-rank-share", "\(rs.humanRankShare)", "--human-edit-share", "\(rs.humanEditShare)"])
        }
        try humansInTheLoop(paths, steps: steps)
        try steps.run("sft on rs best", stage: paths.stage("sft-rs")) {
            try steps.plumb(["sft", "--data", paths.stage("rs-human").path, "--data", paths.stage("import-sft").path,
                             "--data", paths.stage("import-edits").path, "--init-from", paths.stage("sft").path,
                             "--epochs", "\(rs.sftEpochs)", "--lr", "\(rs.sftLearningRate)", "--eval-every", "50",
                             "--tokenizer", paths.tokenizer.path, "--seq-len", "\(s.seqLen)", "--rows", "\(s.rows)", "--seed", "\(seed)",
                             "--out", paths.stage("sft-rs").path])
        }
    }

    /// The rs stage's human tasks completed by the task's simulated annotators (`plumb task annotate`),
    /// then folded back in (`plumb rs-merge`): the stage `sft on rs best` trains on.
    private func humansInTheLoop(_ paths: MainJobPaths, steps: MainJobSteps) throws {
        let rs = paths.stage("rs"), merged = paths.stage("rs-human")
        try steps.run("humans in the loop", stage: merged) {
            for (file, export) in [("human-rank-tasks.json", "human-rankings.json"), ("human-edit-tasks.json", "human-edits.json")] {
                try steps.plumb(["task", "annotate", "--task", paths.task.path, "--tasks", rs.appendingPathComponent(file).path,
                                 "--out", paths.stage(export).path, "--seed", "\(seed)"])
            }
            try steps.plumb(["rs-merge", "--rs", rs.path, "--rankings", paths.stage("human-rankings.json").path,
                             "--edits", paths.stage("human-edits.json").path, "--out", merged.path])
        }
    }

    /// DPO from the SFT policy on the annotators' comparisons (TRL JSONL, Label Studio rankings), and
    /// on the RS stage's best-vs-worst pairs; the reference is the SFT policy, cached once per stage.
    private func directPreferenceOptimisation(_ s: MainJobSettings, paths: MainJobPaths, steps: MainJobSteps) throws {
        for (stage, data) in [("dpo", ["import-comparisons", "import-rankings"]), ("dpo-rs", ["rs"])] {
            try steps.run(stage, stage: paths.stage(stage)) {
                try steps.plumb(["dpo", "--tokenizer", paths.tokenizer.path, "--init-from", paths.stage("sft").path]
                                + data.flatMap { ["--data", paths.stage($0).path] }
                                + ["--beta", "\(s.dpo.beta)", "--lr", "\(s.dpo.learningRate)", "--epochs", "\(s.dpo.epochs)",
                                   "--seq-len", "\(s.seqLen)", "--rows", "\(s.rows)", "--seed", "\(seed)", "--eval-every", "100",
                                   "--out", paths.stage(stage).path])
            }
        }
    }

    /// PPO from the RS policy (Llama 2's order) with the safety-gated reward whitened by the RS
    /// stage's statistics; the oracle judges the live policy on the evaluation prompts as it trains.
    private func proximalPolicyOptimisation(_ s: MainJobSettings, paths: MainJobPaths, steps: MainJobSteps) throws {
        let ppo = s.ppo
        try steps.run("ppo", stage: paths.stage("ppo")) {
            try steps.plumb(["ppo", "--tokenizer", paths.tokenizer.path, "--policy", paths.stage("sft-rs").path,
                             "--helpfulness", paths.stage("rm-helpfulness").path, "--safety", paths.stage("rm-safety").path,
                             "--prompts", paths.stage("import-prompts-ppo").path, "--reward-stats", paths.stage("rs").path,
                             "--whitening", "fixed", "--iterations", "\(ppo.iterations)", "--prompts-per-iteration", "\(ppo.promptsPerIteration)",
                             "--ppo-epochs", "\(ppo.ppoEpochs)", "--lr", "\(ppo.learningRate)", "--value-lr", "\(ppo.valueLearningRate)",
                             "--beta", "\(ppo.beta)", "--max-new-tokens", "\(s.evalMaxNewTokens)", "--judge-prompts", paths.taskFile("eval-prompts.jsonl"),
                             "--judge-every", "\(ppo.judgeEvery)", "--judge-max-new-tokens", "\(s.evalMaxNewTokens)", "--seed", "\(seed)",
                             "--out", paths.stage("ppo").path])
        }
    }

    /// Best-of-k curves of the SFT policy on the evaluation prompts (k up to `bestOfK`), picked by the
    /// combined reward, the helpfulness model and the oracle.
    private func bestOfK(_ s: MainJobSettings, paths: MainJobPaths, steps: MainJobSteps) throws -> [BestOfKRow] {
        let rs = s.rejectionSampling
        try steps.run("best-of-k samples", stage: paths.stage("rs-eval")) {
            try steps.plumb(rsArguments(paths, prompts: "import-eval-prompts", k: rs.bestOfK, temperature: rs.temperature,
                                        maxNewTokens: s.evalMaxNewTokens, out: "rs-eval"))
        }
        return try EvalBestOfKCommand.evaluate(paths.stage("rs-eval"))
    }

    /// Each reward model on held-out annotator pairs (noisy labels) and on the noise-free oracle pairs.
    private func evaluateRewardModels(_ s: MainJobSettings, paths: MainJobPaths, steps: MainJobSteps) throws -> [RewardModelResult] {
        var results: [RewardModelResult] = []
        for dimension in ["helpfulness", "safety"] {
            var result = RewardModelResult(dimension: dimension)
            for (data, name) in [("import-comparisons", "annotators"), ("import-rm-eval", "oracle")] {
                let out = paths.stage("rm-eval-\(dimension)-\(name)")
                try steps.run("rm eval \(dimension) vs \(name)", stage: out) {
                    try steps.plumb(["rm", "eval", "--tokenizer", paths.tokenizer.path, "--model", paths.stage("rm-\(dimension)").path,
                                     "--data", paths.stage(data).path, "--split", "test", "--rows", "\(s.rows)", "--out", out.path])
                }
                let metrics = try StageManifest.read(from: out).metrics
                if name == "oracle" { result.oracle = metrics } else { result.annotators = metrics }
            }
            results.append(result)
        }
        return results
    }

    private func evaluate(_ s: MainJobSettings, paths: MainJobPaths, steps: MainJobSteps) throws -> MainJobResults {
        var results = MainJobResults()
        let sampling = SamplingSettings(temperature: 0, maxNewTokens: s.evalMaxNewTokens)
        var judgedSFT: [JudgedResponse] = []
        for (name, stage) in [("pretrained base", "pretrain"), ("SFT", "sft"), ("RS (SFT on best)", "sft-rs"),
                              ("DPO", "dpo"), ("DPO on RS pairs", "dpo-rs"), ("PPO (from RS)", "ppo")] {
            try steps.run("oracle eval: \(stage)") {
                let answered = try PolicyOracle.answer(model: paths.stage(stage), tokenizer: paths.tokenizer, template: .plumbline,
                                                       prompts: paths.task.appendingPathComponent("eval-prompts.jsonl"),
                                                       settings: sampling, seed: seed)
                try ResponseFile.write(answered, to: paths.root.appendingPathComponent("eval-responses-\(stage).jsonl"))
                let judged = PolicyOracle.judged(answered)
                if stage == "sft" { judgedSFT = judged }
                let winRate = stage == "sft" || stage == "pretrain" ? nil : try WinRateReport(a: judged, b: judgedSFT)
                results.policies.append(PolicyResult(name: name, stage: stage, report: OracleReport(try OracleReport.judge(judged)),
                                                     winRateOverSFT: winRate))
            }
        }
        let sft = try StageManifest.read(from: paths.stage("sft"))
        results.sftValidationLoss = (sft.metrics["initial_val_loss"], sft.metrics["val_loss"])
        return results
    }
}

/// The seed and settings a main-job run directory was made with (`main-job.json`): a rerun with
/// others is refused, so no stage made with other settings or another seed is reused.
struct MainJobStamp: Codable {
    var seed: UInt64
    var settings: MainJobSettings

    func claim(_ root: URL) throws {
        let file = root.appendingPathComponent("main-job.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let mine = try encoder.encode(self)
        if let existing = try? Data(contentsOf: file) {
            guard existing == mine else {
                let other = (try? JSONDecoder().decode(MainJobStamp.self, from: existing)).map { "seed \($0.seed), task preset \($0.settings.taskPreset)" } ?? "other settings"
                throw CLIError("\(root.path) holds a main job made with \(other) (\(file.path)); this one has seed \(seed), task preset \(settings.taskPreset) and may differ in other settings. Pass --run NAME for a new run directory, or remove it.")
            }
            return
        }
        try mine.write(to: file, options: .atomic)
    }
}

/// Where the main job keeps things under its run directory.
struct MainJobPaths {
    let root: URL
    var task: URL { root.appendingPathComponent("task") }
    var tokenizer: URL { root.appendingPathComponent("tokenizer/spm.model") }
    func stage(_ name: String) -> URL { root.appendingPathComponent(name) }
    func taskFile(_ name: String) -> String { task.appendingPathComponent(name).path }
}
