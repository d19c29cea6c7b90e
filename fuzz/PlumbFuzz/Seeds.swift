// Seeds that only plumb's writers can make: shards with end markers, safetensors and llama2.c files.
import Foundation
import PlumbModel
import PlumbStore
import PlumbTensor

enum Seeds {
    static func write(for target: FuzzTarget, into directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        switch target {
        case .shard: try shards(into: directory)
        case .safetensors: try safetensors(into: directory)
        case .llama2c: try llama2c(into: directory)
        default: break
        }
    }

    private static func shards(into directory: URL) throws {
        for frameBytes in [64, 1 << 20] {
            let scratch = directory.appendingPathComponent(".seed-\(frameBytes)")
            try? FileManager.default.removeItem(at: scratch)
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            var options = ShardWriter.Options()
            options.frameRawBytes = frameBytes
            let writer = try ShardWriter(directory: scratch, name: "seed", options: options)
            for i in 0..<12 {
                try writer.append(["schema": "comparison/1", "id": "r\(i)", "text": String(repeating: "ab", count: i * 3)])
            }
            for file in try writer.finish() {
                let url = scratch.appendingPathComponent(file.file)
                try FileManager.default.copyItem(at: url, to: directory.appendingPathComponent("shard-\(frameBytes)-\(file.file)"))
            }
            try FileManager.default.removeItem(at: scratch)
        }
    }

    private static func safetensors(into directory: URL) throws {
        let file = TensorFile(tensors: ["a.weight": Tensor(zeros: [2, 3]), "b": Tensor(zeros: [4])], metadata: ["format": "pt"])
        try SafeTensors.write(file, to: directory.appendingPathComponent("tiny.safetensors"))
        for dtype in ["F16", "BF16"] {
            let header = Data("{\"x\":{\"dtype\":\"\(dtype)\",\"shape\":[2,2],\"data_offsets\":[0,8]}}".utf8)
            var bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Data($0) }
            bytes.append(header)
            bytes.append(Data(repeating: 0x3c, count: 8))
            try bytes.write(to: directory.appendingPathComponent("tiny-\(dtype).safetensors"))
        }
    }

    private static func llama2c(into directory: URL) throws {
        for tied in [true, false] {
            let config = LlamaConfig(dim: 8, hiddenDim: 16, nLayers: 1, nHeads: 2, nKVHeads: 1, vocabSize: 12,
                                     maxSeqLen: 4, tieWordEmbeddings: tied, rotaryLayout: .adjacentPairs)
            var tensors: [String: Tensor] = [:]
            for (name, shape) in LlamaTensorNames.table(config, heads: .lm) { tensors[name] = Tensor(zeros: shape) }
            try Llama2cFormat.write(config: config, tensors: tensors, to: directory.appendingPathComponent("tiny-\(tied ? "tied" : "untied").bin"))
        }
    }
}
