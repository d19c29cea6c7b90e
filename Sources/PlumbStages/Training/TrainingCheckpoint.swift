// Checkpoints for exact resume: `checkpoints/step-00000120/` holds the model (config.json,
// model.safetensors), AdamW's moments (optimizer.safetensors) and `trainer.json` (step, optimiser
// header, the SHA-256 of every other file). A trainer of several models (PPO's policy and critic)
// keeps its first model there and each other one, with its moments, in a subdirectory named after
// its group (`value/`); a driver's own state (a KL coefficient, running statistics) rides in
// `trainer.json`. Each file is written atomically (fsynced), the
// checkpoint under `.partial-step-*` and renamed into place with the directory fsynced, so a
// directory named `step-*` is complete. Restore removes `.partial-*` leftovers of a killed writer and
// takes the newest checkpoint that reads back whole; one that does not (a file missing, cut short or
// changed since it was written) is skipped for the one before, with a notice.
import Foundation
import PlumbFiles
import PlumbModel
import PlumbStore
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
    /// SHA-256 of each other file of the checkpoint, by name (absent in checkpoints written before
    /// checksums were kept: those are read unchecked).
    public var files: [String: String]? = nil
    /// Optimiser headers of the groups after the first, by group name.
    public var groups: [String: OptimizerStateHeader]? = nil
    /// Figures a driver needs to continue exactly (PPO: the KL coefficient, running whitening sums).
    public var driver: [String: Double]? = nil
    /// Processes of the data-parallel job that wrote it (absent: one).
    public var ranks: Int? = nil

    public init(step: Int, totalSteps: Int, optimizer: OptimizerStateHeader, tokens: Int, initialEvaluation: [String: Double],
                nonFiniteSteps: Int? = nil, groups: [String: OptimizerStateHeader]? = nil, driver: [String: Double]? = nil) {
        self.step = step; self.totalSteps = totalSteps; self.optimizer = optimizer; self.tokens = tokens
        self.initialEvaluation = initialEvaluation; self.nonFiniteSteps = nonFiniteSteps; self.groups = groups; self.driver = driver
    }
}

/// One model and its optimiser in a checkpoint; the first group's files sit at the checkpoint's top
/// level, each other group's in a subdirectory of its name. A group with a LoRA adapter keeps the
/// adapter only (PEFT's layout, checked against the base on restore) and its dropout RNG.
public struct CheckpointGroup {
    public var name: String
    public var model: LlamaModel
    public var adapter: LoRAAdapter?
    public var optimizer: AdamW
    public init(name: String, model: LlamaModel, adapter: LoRAAdapter? = nil, optimizer: AdamW) {
        self.name = name; self.model = model; self.adapter = adapter; self.optimizer = optimizer
    }
    /// What the group trains: the adapter's parameters, or the model's.
    var parameters: ParameterSet { adapter?.parameters ?? model.parameters }
}

public enum TrainingCheckpoint {
    static let prefix = "step-"
    static let partialPrefix = ".partial-"
    static let stateFile = "trainer.json"
    static let optimizerFile = "optimizer.safetensors"

    /// Saves model, optimiser and state for step `state.step` under `root`, then keeps only the
    /// newest `keep` checkpoints. Returns the checkpoint's directory.
    @discardableResult
    public static func save(model: LlamaModel, optimizer: AdamW, state: TrainerState, root: URL, keep: Int) throws -> URL {
        try save(groups: [CheckpointGroup(name: "model", model: model, optimizer: optimizer)], state: state, root: root, keep: keep)
    }

    /// Saves every group (the first at the top level, the others in subdirectories) and the state.
    @discardableResult
    public static func save(groups: [CheckpointGroup], state: TrainerState, root: URL, keep: Int) throws -> URL {
        let fm = FileManager.default
        for group in groups {
            if let bad = group.parameters.firstNonFiniteValue() {
                throw StageError("checkpoint of step \(state.step): parameter \(bad.name) of the \(group.name) holds a non-finite value at element \(bad.index); not saved")
            }
        }
        if !fm.fileExists(atPath: root.path) {
            try AtomicFile.makeDirectory(root)
            try AtomicFile.syncDirectory(root.deletingLastPathComponent())
        }
        let name = prefix + String(format: "%08d", state.step)
        let partial = root.appendingPathComponent("\(partialPrefix)\(name)-\(getpid())")
        try? fm.removeItem(at: partial)
        try AtomicFile.makeDirectory(partial)
        var withChecksums = state
        for (index, group) in groups.enumerated() {
            let directory = index == 0 ? partial : partial.appendingPathComponent(group.name)
            if index > 0 { try AtomicFile.makeDirectory(directory) }
            if let adapter = group.adapter {
                try PEFTAdapterFormat.save(adapter, base: group.model, baseName: nil, to: directory)
            } else {
                try group.model.save(to: directory, metadata: ["step": String(state.step)])
            }
            let saved = try group.optimizer.saveState(parameters: group.parameters, rng: group.adapter?.dropoutRNG)
            var moments: [String: Tensor] = [:]
            for (name, tensor) in saved.tensors { moments[name] = tensor }
            try SafeTensors.write(TensorFile(tensors: moments), to: directory.appendingPathComponent(optimizerFile))
            if index == 0 {
                withChecksums.optimizer = saved.header
            } else {
                withChecksums.groups = (withChecksums.groups ?? [:]).merging([group.name: saved.header]) { $1 }
            }
        }
        withChecksums.files = try checksums(of: partial)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try AtomicFile.write(try encoder.encode(withChecksums), to: partial.appendingPathComponent(stateFile))
        let final = root.appendingPathComponent(name)
        try? fm.removeItem(at: final)
        try AtomicFile.rename(partial, to: final)
        for old in try list(root).dropLast(max(keep, 1)) { try? fm.removeItem(at: old) }
        return final
    }

    /// Complete checkpoints under `root`, oldest first.
    public static func list(_ root: URL) throws -> [URL] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root.path) else { return [] }
        return names.filter { $0.hasPrefix(prefix) }.sorted().map { root.appendingPathComponent($0) }
    }

    /// Removes the `.partial-*` directories a killed writer left under `root`; returns their names.
    @discardableResult
    public static func removePartials(_ root: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        let partials = names.filter { $0.hasPrefix(partialPrefix) }.sorted()
        for name in partials { try? FileManager.default.removeItem(at: root.appendingPathComponent(name)) }
        return partials
    }

    /// Restores the newest readable checkpoint under `root` into `model` and `optimizer`; nil when
    /// there is none (the model and optimiser are then untouched). Leftover partial directories are
    /// removed first. An unreadable checkpoint is skipped for the one before, reported through `log`;
    /// a readable one of another plan or other optimiser settings is an error.
    public static func restoreLatest(root: URL, model: LlamaModel, optimizer: AdamW, totalSteps: Int,
                                     log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) throws -> TrainerState? {
        try restoreLatest(root: root, groups: [CheckpointGroup(name: "model", model: model, optimizer: optimizer)], totalSteps: totalSteps, log: log)
    }

    /// Restores every group of the newest readable checkpoint (see the single-model form).
    public static func restoreLatest(root: URL, groups: [CheckpointGroup], totalSteps: Int,
                                     log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) throws -> TrainerState? {
        let removed = removePartials(root)
        if !removed.isEmpty { log("plumb: removed \(removed.count) unfinished checkpoint director\(removed.count == 1 ? "y" : "ies") in \(root.path): \(removed.joined(separator: ", "))") }
        let checkpoints = try list(root)
        for (index, directory) in checkpoints.enumerated().reversed() {
            let loaded: (state: TrainerState, models: [(ParameterSet, TensorFile)])
            do {
                loaded = try read(directory, groups: groups)
            } catch {
                let next = index > 0 ? "resuming from \(checkpoints[index - 1].lastPathComponent) instead" : "starting from step 0"
                log("plumb: checkpoint \(directory.path) is unreadable (\(error)); \(next)")
                continue
            }
            guard loaded.state.totalSteps == totalSteps else {
                throw StageError("\(directory.path): checkpoint of a \(loaded.state.totalSteps)-step plan, this run plans \(totalSteps) steps; remove \(root.path) to start over")
            }
            for (index, (group, (model, moments))) in zip(groups, loaded.models).enumerated() {
                let header = index == 0 ? loaded.state.optimizer : loaded.state.groups?[group.name]
                guard let header else { throw StageError("\(directory.path): \(stateFile) holds no optimiser state for the \(group.name)") }
                try group.parameters.copyValues(from: model)
                let rng = try group.optimizer.restoreState(header: header, tensors: moments.tensors, parameters: group.parameters)
                if let adapter = group.adapter, let rng { adapter.dropoutRNG = rng }
            }
            return loaded.state
        }
        return nil
    }

    /// Reads a checkpoint whole, without touching the live models: its state, checksums, and each
    /// group's model and moments.
    static func read(_ directory: URL, groups: [CheckpointGroup]) throws -> (state: TrainerState, models: [(ParameterSet, TensorFile)]) {
        let stateURL = directory.appendingPathComponent(stateFile)
        let state: TrainerState
        do {
            state = try JSONDecoder().decode(TrainerState.self, from: Data(contentsOf: stateURL))
        } catch {
            throw StageError("\(stateURL.path): missing or not a trainer state: \(error.localizedDescription)")
        }
        guard state.formatVersion == TrainerState.currentFormatVersion else {
            throw StageError("\(stateURL.path): trainer state format \(state.formatVersion), this build reads \(TrainerState.currentFormatVersion)")
        }
        if let expected = state.files {
            let found = try checksums(of: directory)
            for (name, sha) in expected.sorted(by: { $0.key < $1.key }) where found[name] != sha {
                throw StageError("\(directory.appendingPathComponent(name).path): " +
                                 (found[name] == nil ? "missing" : "SHA-256 \(found[name]!) differs from \(sha) recorded in \(stateFile)"))
            }
        }
        let models = try groups.enumerated().map { index, group in
            let groupDirectory = index == 0 ? directory : directory.appendingPathComponent(group.name)
            let parameters = try group.adapter.map { _ in
                try PEFTAdapterFormat.load(groupDirectory, base: group.model, baseSource: "the base of the \(group.name)").parameters
            } ?? LlamaModel.load(directory: groupDirectory, heads: group.model.heads).parameters
            return (parameters, try SafeTensors.read(groupDirectory.appendingPathComponent(optimizerFile)))
        }
        return (state, models)
    }

    /// SHA-256 of every file in `directory` (and its group subdirectories, as `group/name`) except
    /// the trainer state, by name.
    static func checksums(of directory: URL, prefix: String = "") throws -> [String: String] {
        var sums: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name != stateFile && !name.hasPrefix(".") {
            let url = directory.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
                sums.merge(try checksums(of: url, prefix: prefix + name + "/")) { $1 }
            } else {
                sums[prefix + name] = try SHA256.hex(ofFile: url)
            }
        }
        return sums
    }
}
