// A stage trained with LoRA keeps its adapter only, in PEFT's layout: `adapter_config.json` beside
// the manifest (its `base_model_name_or_path` is the base's location, a stage or Hugging Face
// directory) and `adapter_model.safetensors` as a compressed artifact. A later stage that loads such
// a stage (or a plain PEFT directory whose base is a local path) gets the base with the adapter
// merged in (`LoRAAdapter.merged`), after the adapter's base checksum was checked against the base.
import Foundation
import PlumbModel
import PlumbStore

extension StageModel {
    /// Saves `adapter` (trained over `base`, loaded from `baseLocation`) into the stage.
    public static func saveAdapter(_ adapter: LoRAAdapter, base: LlamaModel, baseLocation: URL, to stage: StageWriter) throws {
        let staging = stage.directory.appendingPathComponent(".adapter-staging")
        try? FileManager.default.removeItem(at: staging)
        defer { try? FileManager.default.removeItem(at: staging) }
        try PEFTAdapterFormat.save(adapter, base: base, baseName: baseLocation.standardizedFileURL.path, to: staging)
        try stage.storeArtifact(name: PEFTAdapterFormat.weightsFile, from: staging.appendingPathComponent(PEFTAdapterFormat.weightsFile))
        let config = stage.directory.appendingPathComponent(PEFTAdapterFormat.configFile)
        try? FileManager.default.removeItem(at: config)
        try FileManager.default.moveItem(at: staging.appendingPathComponent(PEFTAdapterFormat.configFile), to: config)
    }

    /// Whether `directory` holds an adapter rather than a whole model.
    public static func holdsAdapter(_ directory: URL) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent(PEFTAdapterFormat.configFile).path)
    }

    /// The base of the adapter in `directory` and the adapter itself (a stage directory or a PEFT directory).
    public static func loadAdapter(_ directory: URL, heads: LlamaHeads = .lm,
                                   allowMissingHeads: Bool = false) throws -> (base: LlamaModel, adapter: LoRAAdapter) {
        let configURL = directory.appendingPathComponent(PEFTAdapterFormat.configFile)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any]
        guard let basePath = object?["base_model_name_or_path"] as? String, !basePath.isEmpty else {
            throw StageError("\(configURL.path): base_model_name_or_path names no base; load the adapter with its base given")
        }
        let baseURL = URL(fileURLWithPath: basePath, relativeTo: directory)
        guard FileManager.default.fileExists(atPath: baseURL.path) else {
            throw StageError("\(configURL.path): the adapter's base \(basePath) is not a local directory")
        }
        // A head may live in the adapter (a reward model's `score`): the base need not have it.
        let base = try load(baseURL, heads: heads, allowMissingHeads: true, gradients: false)
        return (base, try loadAdapter(directory, onto: base, baseSource: baseURL.path))
    }

    /// The adapter in `directory` (a stage directory or a PEFT directory) on `base`, a base already in
    /// memory that several adapters share; an adapter trained on another base is refused naming both
    /// checksums.
    public static func loadAdapter(_ directory: URL, onto base: LlamaModel, baseSource: String) throws -> LoRAAdapter {
        let configURL = directory.appendingPathComponent(PEFTAdapterFormat.configFile)
        let plain = directory.appendingPathComponent(PEFTAdapterFormat.weightsFile)
        if FileManager.default.fileExists(atPath: plain.path) {
            return try PEFTAdapterFormat.load(directory, base: base, baseSource: baseSource)
        }
        let manifest = try StageManifest.read(from: directory)
        guard manifest.status == .complete else {
            throw StageError("\(directory.path): stage is \(manifest.status.rawValue), not complete; its adapter cannot be used yet")
        }
        guard let artifact = manifest.artifacts.first(where: { $0.name == PEFTAdapterFormat.weightsFile }) else {
            throw StageError("\(directory.path): the manifest lists no '\(PEFTAdapterFormat.weightsFile)' artifact")
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-adapter-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        try FileManager.default.copyItem(at: configURL, to: scratch.appendingPathComponent(PEFTAdapterFormat.configFile))
        try ArtifactStore.export(artifact, from: directory, to: scratch.appendingPathComponent(PEFTAdapterFormat.weightsFile))
        return try PEFTAdapterFormat.load(scratch, base: base, baseSource: baseSource)
    }
}
