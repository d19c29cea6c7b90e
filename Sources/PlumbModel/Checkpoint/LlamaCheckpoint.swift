// A Hugging Face checkpoint directory: `config.json` plus `model.safetensors`, or shards listed in
// `model.safetensors.index.json` ({"metadata": {...}, "weight_map": {"<tensor>": "<shard file>"}}).
import Foundation
import PlumbFiles
import PlumbTensor

public enum LlamaCheckpoint {
    public static let configFile = "config.json"
    public static let weightsFile = "model.safetensors"
    public static let indexFile = "model.safetensors.index.json"

    /// Writes `config.json` and `model.safetensors` into `directory` (created if missing).
    /// q/k rows are written in Hugging Face's halves layout whatever the in-memory layout.
    public static func save(config: LlamaConfig, tensors: [String: Tensor], metadata: [String: String] = [:], to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var halves = tensors
        try RotaryPermutation.convertAll(&halves, config: config, from: config.rotaryLayout, to: .halves)
        var fileConfig = config
        fileConfig.rotaryLayout = .halves
        var meta = metadata
        meta["format"] = "pt"  // what transformers expects to find
        try SafeTensors.write(TensorFile(tensors: halves, metadata: meta), to: directory.appendingPathComponent(weightsFile))
        try AtomicFile.write([try fileConfig.jsonData()], to: directory.appendingPathComponent(configFile))
    }

    /// Reads a checkpoint directory: its config and every tensor (F32), single-file or sharded.
    public static func load(_ directory: URL) throws -> (config: LlamaConfig, file: TensorFile) {
        let config = try LlamaConfig.load(directory.appendingPathComponent(configFile))
        let single = directory.appendingPathComponent(weightsFile)
        let index = directory.appendingPathComponent(indexFile)
        if FileManager.default.fileExists(atPath: single.path) { return (config, try SafeTensors.read(single)) }
        guard FileManager.default.fileExists(atPath: index.path) else {
            throw CheckpointError("\(directory.path): neither \(weightsFile) nor \(indexFile) found",)
        }
        return (config, try readSharded(index: index))
    }

    /// Reads every shard named in a `model.safetensors.index.json` and checks the weight map.
    public static func readSharded(index: URL) throws -> TensorFile {
        let object = (try? Data(contentsOf: index)).flatMap { try? JSONSerialization.jsonObject(with: $0) }
        guard let root = object as? [String: Any], let map = root["weight_map"] as? [String: String] else {
            throw CheckpointError("\(index.path): not a JSON object with a 'weight_map' of tensor name to shard file")
        }
        for (name, shard) in map.sorted(by: { $0.key < $1.key }) where !staysInside(shard) {
            throw CheckpointError("\(index.path): weight_map['\(name)'] is '\(shard)': a shard file must be a relative path "
                + "inside the checkpoint directory (no '..', not absolute)")
        }
        var merged = TensorFile()
        for shard in Set(map.values).sorted() {
            let url = index.deletingLastPathComponent().appendingPathComponent(shard)
            let part = try SafeTensors.read(url)
            for (name, t) in part.tensors {
                guard map[name] == shard else {
                    throw CheckpointError("\(url.path): tensor '\(name)' is not mapped to this shard in \(index.lastPathComponent)")
                }
                merged.tensors[name] = t
            }
            merged.metadata.merge(part.metadata) { a, _ in a }
        }
        for (name, shard) in map where merged.tensors[name] == nil {
            throw CheckpointError("\(index.path): tensor '\(name)' is mapped to \(shard) but that shard does not hold it")
        }
        return merged
    }

    /// A path read from a file that names a file beside it: relative, non-empty, with no '..'.
    static func staysInside(_ path: String) -> Bool {
        !path.isEmpty && !path.hasPrefix("/") && !path.contains("\0") && !path.split(separator: "/").contains("..")
    }

    /// Throws unless `tensors` holds exactly the trunk and `heads` of `config`, each with its shape.
    /// Head tensors of heads not asked for, and `rotary_emb.inv_freq` buffers, are allowed and ignored.
    public static func check(_ tensors: [String: Tensor], config: LlamaConfig, heads: LlamaHeads, source: String) throws {
        let table = LlamaTensorNames.table(config, heads: heads)
        for (name, shape) in table {
            guard let t = tensors[name] else {
                throw CheckpointError("\(source): missing tensor '\(name)' (expected shape \(shape))")
            }
            guard t.shape == shape else {
                throw CheckpointError("\(source): tensor '\(name)': expected shape \(shape), found \(t.shape)")
            }
        }
        let known = Set(table.map(\.name)).union([LlamaTensorNames.lmHead, LlamaTensorNames.rewardHead, LlamaTensorNames.valueHead])
        for name in tensors.keys.sorted() where !known.contains(name) && !name.hasSuffix("rotary_emb.inv_freq") {
            throw CheckpointError("\(source): unexpected tensor '\(name)' for a \(config.nLayers)-layer Llama; the checkpoint does not match its config")
        }
    }
}
