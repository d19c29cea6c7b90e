// A stage's model: stored in the stage directory as `config.json` plus the weights zstd-compressed
// (`model.safetensors.zst`, recorded in the manifest as an artifact). Loading accepts such a stage
// directory or a plain Hugging Face directory (config.json + model.safetensors); a stage or PEFT
// directory holding a LoRA adapter loads as its base with the adapter merged in (StageAdapter.swift).
import Foundation
import PlumbModel
import PlumbStore

public enum StageModel {
    public static let artifactName = "model.safetensors"

    /// Saves `model` into the stage: config.json beside the manifest, weights as a compressed artifact.
    public static func save(_ model: LlamaModel, to stage: StageWriter, metadata: [String: String] = [:]) throws {
        let staging = stage.directory.appendingPathComponent(".model-staging")
        try? FileManager.default.removeItem(at: staging)
        defer { try? FileManager.default.removeItem(at: staging) }
        try model.save(to: staging, metadata: metadata)
        try stage.storeArtifact(name: artifactName, from: staging.appendingPathComponent(LlamaCheckpoint.weightsFile))
        let config = stage.directory.appendingPathComponent(LlamaCheckpoint.configFile)
        try? FileManager.default.removeItem(at: config)
        try FileManager.default.moveItem(at: staging.appendingPathComponent(LlamaCheckpoint.configFile), to: config)
    }

    /// Loads the model of a stage directory or a Hugging Face directory, with `heads`.
    /// Without `gradients`, the model is frozen and holds no gradient arena (a base for LoRA adapters).
    public static func load(_ directory: URL, heads: LlamaHeads = .lm, allowMissingHeads: Bool = false,
                            gradients: Bool = true) throws -> LlamaModel {
        if holdsAdapter(directory) {
            let (base, adapter) = try loadAdapter(directory, heads: heads, allowMissingHeads: allowMissingHeads)
            return try adapter.merged(with: base, gradients: gradients)
        }
        let plain = directory.appendingPathComponent(LlamaCheckpoint.weightsFile)
        if FileManager.default.fileExists(atPath: plain.path) {
            return try LlamaModel.load(directory: directory, heads: heads, allowMissingHeads: allowMissingHeads, gradients: gradients)
        }
        let manifest = try StageManifest.read(from: directory)
        guard manifest.status == .complete else {
            throw StageError("\(directory.path): stage is \(manifest.status.rawValue), not complete; its model cannot be used yet")
        }
        guard let artifact = manifest.artifacts.first(where: { $0.name == artifactName }) else {
            throw StageError("\(directory.path): the manifest lists no '\(artifactName)' artifact; is this a training stage?")
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-model-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        try FileManager.default.copyItem(at: directory.appendingPathComponent(LlamaCheckpoint.configFile),
                                         to: scratch.appendingPathComponent(LlamaCheckpoint.configFile))
        try ArtifactStore.export(artifact, from: directory, to: scratch.appendingPathComponent(LlamaCheckpoint.weightsFile))
        return try LlamaModel.load(directory: scratch, heads: heads, allowMissingHeads: allowMissingHeads, gradients: gradients)
    }

    /// The file a later stage names as its input for this model (its checksum enters the cache key).
    public static func inputFile(_ directory: URL) -> URL {
        if holdsAdapter(directory) {
            let plain = directory.appendingPathComponent(PEFTAdapterFormat.weightsFile)
            return FileManager.default.fileExists(atPath: plain.path) ? plain : directory.appendingPathComponent(PEFTAdapterFormat.weightsFile + ".zst")
        }
        let plain = directory.appendingPathComponent(LlamaCheckpoint.weightsFile)
        if FileManager.default.fileExists(atPath: plain.path) { return plain }
        return directory.appendingPathComponent(artifactName + ".zst")
    }
}
