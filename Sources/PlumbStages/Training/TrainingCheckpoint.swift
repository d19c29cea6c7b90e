// Checkpoints for exact resume: `checkpoints/step-00000120/` holds the model (config.json,
// model.safetensors), AdamW's moments (optimizer.safetensors) and `trainer.json` (step, optimiser
// header). A checkpoint is written under a temporary name and renamed into place, so a directory
// named `step-*` is always complete; a killed writer leaves only a `.partial-*` directory, ignored.
import Foundation
import PlumbModel
import PlumbTensor

public struct TrainerState: Codable, Equatable, Sendable {
    public static let currentFormatVersion = 1
    public var formatVersion = TrainerState.currentFormatVersion
    /// Optimiser steps completed.
    public var step: Int
    /// Total steps of the plan this checkpoint belongs to (a resume with another plan is refused).
    public var totalSteps: Int
    public var optimizer: OptimizerStateHeader
    /// Tokens seen so far (for throughput and reporting).
    public var tokens: Int
    /// Validation figures before the first step, kept so a resumed stage still reports them.
    public var initialEvaluation: [String: Double]
    /// Steps so far that took no optimiser step because of a non-finite loss or gradient.
    public var nonFiniteSteps: Int?
}

public enum TrainingCheckpoint {
    static let prefix = "step-"

    /// Saves model, optimiser and state for step `state.step` under `root`, then keeps only the
    /// newest `keep` checkpoints. Returns the checkpoint's directory.
    @discardableResult
    public static func save(model: LlamaModel, optimizer: AdamW, state: TrainerState, root: URL, keep: Int) throws -> URL {
        let fm = FileManager.default
        if let bad = model.parameters.firstNonFiniteValue() {
            throw StageError("checkpoint of step \(state.step): parameter \(bad.name) holds a non-finite value at element \(bad.index); not saved")
        }
        try fm.createDirectory(at: root, withIntermediateDirectories: true)
        let name = prefix + String(format: "%08d", state.step)
        let partial = root.appendingPathComponent(".partial-\(name)-\(getpid())")
        try? fm.removeItem(at: partial)
        try fm.createDirectory(at: partial, withIntermediateDirectories: true)
        try model.save(to: partial, metadata: ["step": String(state.step)])
        let saved = try optimizer.saveState(parameters: model.parameters, rng: nil)
        var moments: [String: Tensor] = [:]
        for (name, tensor) in saved.tensors { moments[name] = tensor }
        try SafeTensors.write(TensorFile(tensors: moments), to: partial.appendingPathComponent("optimizer.safetensors"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try encoder.encode(state).write(to: partial.appendingPathComponent("trainer.json"))
        let final = root.appendingPathComponent(name)
        try? fm.removeItem(at: final)
        try fm.moveItem(at: partial, to: final)
        for old in try list(root).dropLast(max(keep, 1)) { try? fm.removeItem(at: old) }
        return final
    }

    /// Complete checkpoints under `root`, oldest first.
    public static func list(_ root: URL) throws -> [URL] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root.path) else { return [] }
        return names.filter { $0.hasPrefix(prefix) }.sorted().map { root.appendingPathComponent($0) }
    }

    /// Restores the newest checkpoint under `root` into `model` and `optimizer`; nil when there is none.
    public static func restoreLatest(root: URL, model: LlamaModel, optimizer: AdamW, totalSteps: Int) throws -> TrainerState? {
        guard let latest = try list(root).last else { return nil }
        let state = try JSONDecoder().decode(TrainerState.self, from: Data(contentsOf: latest.appendingPathComponent("trainer.json")))
        guard state.formatVersion == TrainerState.currentFormatVersion else {
            throw StageError("\(latest.path): trainer state format \(state.formatVersion), this build reads \(TrainerState.currentFormatVersion)")
        }
        guard state.totalSteps == totalSteps else {
            throw StageError("\(latest.path): checkpoint of a \(state.totalSteps)-step plan, this run plans \(totalSteps) steps; remove \(root.path) to start over")
        }
        let restored = try LlamaModel.load(directory: latest, heads: model.heads)
        try model.parameters.copyValues(from: restored.parameters)
        let moments = try SafeTensors.read(latest.appendingPathComponent("optimizer.safetensors"))
        try optimizer.restoreState(header: state.optimizer, tensors: moments.tensors, parameters: model.parameters)
        return state
    }
}
