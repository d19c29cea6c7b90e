// `plumb demo`: the main job on the built-in task, as pipeline files run by the pipeline runner:
// month 1 (pipelines/main-job.yaml, built into the binary: the task, tokenizer, pretraining, SFT, both reward models, RS
// with humans in the loop, DPO, PPO, evaluation) and, at the standard size, month 2
// (pipelines/monthly.yaml: new prompts and on-policy annotations, reward models retrained on all
// data so far, RS from the latest policy, PPO). It prints one results table of every policy judged
// by the task's oracle, month over month. Complete stages are skipped by their keys and interrupted
// ones resume, so rerunning the command finishes an interrupted job (MainJobRun, PlumbReport).
import ArgumentParser
import Foundation
import PlumbPipeline
import PlumbReport

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Run the main job on the built-in task and print a results table.")

    @Option(help: "Directory of runs.") var runs = "runs"
    @Option(name: .customLong("run"), help: "Run name (default: demo, or demo-quick with --quick).") var runName: String?
    @Option(help: "Seed of the task, the data order and the weights.") var seed: UInt64 = 1
    @Flag(help: "Small sizes: a smoke test of every step (CI).") var quick = false
    @Option(help: "Months to run (default: 3 at the standard size, 1 with --quick).") var months: Int?

    func run() throws {
        let monthCount = months ?? (quick ? 1 : 3)
        guard monthCount >= 1 else { throw ValidationError("--months must be at least 1") }
        let root = URL(fileURLWithPath: runs).appendingPathComponent(runName ?? (quick ? "demo-quick" : "demo")).standardizedFileURL
        let job = try MainJobRun.run(root: root, months: monthCount, profile: quick ? "quick" : "standard", seed: seed, services: .standard)
        print(job.text)
        print("Report: \(job.page.path)")
    }
}
