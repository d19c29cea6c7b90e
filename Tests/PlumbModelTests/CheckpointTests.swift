import Foundation
import PlumbTensor
import XCTest
@testable import PlumbModel

final class CheckpointTests: XCTestCase {
    let config = LlamaPreset.tiny.config

    func testSafeTensorsRoundTripIsBitExact() throws {
        var tensors = randomTensors(config, heads: [.lm, .reward, .value], seed: 1)
        let special = Tensor(zeros: [5])
        for (i, v) in [Float.nan, -0.0, .infinity, .leastNonzeroMagnitude, -.greatestFiniteMagnitude].enumerated() { special.pointer[i] = v }
        tensors["special"] = special
        let dir = try temporaryDirectory("st")
        let url = dir.appendingPathComponent("a.safetensors")
        try SafeTensors.write(TensorFile(tensors: tensors, metadata: ["step": "7"]), to: url)
        let back = try SafeTensors.read(url)
        XCTAssertEqual(back.metadata, ["step": "7"])
        XCTAssertEqual(Set(back.tensors.keys), Set(tensors.keys))
        for (name, t) in tensors {
            XCTAssertEqual(back.tensors[name]!.shape, t.shape, name)
            XCTAssertEqual(bits(back.tensors[name]!), bits(t), name)
        }
        // Same tensors, same bytes.
        let again = dir.appendingPathComponent("b.safetensors")
        try SafeTensors.write(TensorFile(tensors: back.tensors, metadata: back.metadata), to: again)
        XCTAssertEqual(try Data(contentsOf: url), try Data(contentsOf: again))
    }

    /// F16 and BF16 bytes written by hand from the IEEE 754 definitions.
    func testReadsHalfPrecision() throws {
        let f16: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x3555, 0x7C00]
        let f16Expected: [Float] = [1, -2, 65504, 5.9604645e-8, 0.33325195, .infinity]
        let bf16: [UInt16] = [0x3F80, 0xC040, 0x0000]
        let bf16Expected: [Float] = [1, -3, 0]
        var body = Data()
        for v in f16 + bf16 { withUnsafeBytes(of: v.littleEndian) { body.append(contentsOf: $0) } }
        let header = #"{"a":{"dtype":"F16","shape":[2,3],"data_offsets":[0,12]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[12,18]}}"#
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(Data(header.utf8)); data.append(body)
        let file = try SafeTensors.decode(data, source: "hand.safetensors")
        XCTAssertEqual(file.tensors["a"]!.array, f16Expected)
        XCTAssertEqual(file.tensors["a"]!.shape, [2, 3])
        XCTAssertEqual(file.tensors["b"]!.array, bf16Expected)
    }

    func testBadHeaderNamesTensor() throws {
        let header = #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,12]}}"#
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(Data(header.utf8)); data.append(Data(count: 12))
        XCTAssertThrowsError(try SafeTensors.decode(data, source: "x.safetensors")) { error in
            XCTAssertTrue("\(error)".contains("x.safetensors: tensor 'w'"), "\(error)")
        }
    }

    func testShardedCheckpointLoads() throws {
        let tensors = randomTensors(config, heads: .lm, seed: 2)
        let dir = try temporaryDirectory("shards")
        let names = tensors.keys.sorted()
        var map: [String: String] = [:]
        for (k, part) in [names.prefix(names.count / 2), names.suffix(from: names.count / 2)].enumerated() {
            let shard = "model-0000\(k + 1)-of-00002.safetensors"
            var file = TensorFile()
            for n in part { file.tensors[n] = tensors[n]; map[n] = shard }
            try SafeTensors.write(file, to: dir.appendingPathComponent(shard))
        }
        let index = try JSONSerialization.data(withJSONObject: ["metadata": ["total_size": 0], "weight_map": map])
        try index.write(to: dir.appendingPathComponent(LlamaCheckpoint.indexFile))
        try config.jsonData().write(to: dir.appendingPathComponent(LlamaCheckpoint.configFile))
        let (loaded, file) = try LlamaCheckpoint.load(dir)
        XCTAssertEqual(loaded, config)
        for (name, t) in tensors { XCTAssertEqual(bits(file.tensors[name]!), bits(t), name) }
    }

    func testShapeMismatchNamesTensorExpectedAndFound() throws {
        var tensors = randomTensors(config, heads: .lm, seed: 3)
        tensors["model.layers.1.mlp.up_proj.weight"] = Tensor(zeros: [40, 15])
        XCTAssertThrowsError(try LlamaCheckpoint.check(tensors, config: config, heads: .lm, source: "ckpt")) { error in
            XCTAssertEqual("\(error)", "ckpt: tensor 'model.layers.1.mlp.up_proj.weight': expected shape [40, 16], found [40, 15]")
        }
        tensors = randomTensors(config, heads: .lm, seed: 3)
        tensors["model.layers.2.mlp.up_proj.weight"] = Tensor(zeros: [40, 16])
        XCTAssertThrowsError(try LlamaCheckpoint.check(tensors, config: config, heads: .lm, source: "ckpt")) { error in
            XCTAssertTrue("\(error)".contains("unexpected tensor 'model.layers.2.mlp.up_proj.weight'"), "\(error)")
        }
    }

    func testLlama2cRoundTripIsBitExact() throws {
        for tied in [true, false] {
            let c = config.with { $0.tieWordEmbeddings = tied }
            let tensors = randomTensors(c, heads: .lm, seed: tied ? 4 : 5)
            let bytes = try Llama2cFormat.encode(config: c, tensors: tensors)
            let vocabField = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 20, as: Int32.self) }
            XCTAssertEqual(vocabField, tied ? 32 : -32, "negative vocab marks an unshared classifier")
            let (back, backTensors) = try Llama2cFormat.decode(bytes, source: "tiny.bin")
            XCTAssertEqual(back, c)
            XCTAssertEqual(Set(backTensors.keys), Set(tensors.keys))
            for (name, t) in tensors { XCTAssertEqual(bits(backTensors[name]!), bits(t), name) }
            XCTAssertEqual(try Llama2cFormat.encode(config: back, tensors: backTensors), bytes)
        }
    }

    func testLlama2cRejectsTruncatedFile() throws {
        let bytes = try Llama2cFormat.encode(config: config, tensors: randomTensors(config, heads: .lm, seed: 6))
        XCTAssertThrowsError(try Llama2cFormat.decode(bytes.prefix(bytes.count - 4), source: "cut.bin")) { error in
            XCTAssertTrue("\(error)".hasPrefix("cut.bin: header [16, 40, 2, 4, 2, 32, 32] implies"), "\(error)")
        }
    }

    func testPermuteThenUnpermuteIsIdentity() throws {
        var rng = TestRandom(7)
        let w = rng.tensor([4 * 8, 5])
        let halves = try RotaryPermutation.convert(w, heads: 4, from: .adjacentPairs, to: .halves)
        XCTAssertNotEqual(bits(halves), bits(w))
        let back = try RotaryPermutation.convert(halves, heads: 4, from: .halves, to: .adjacentPairs)
        XCTAssertEqual(bits(back), bits(w))
    }

    /// Independent check of the permutation's meaning: rotating adjacent pairs of W_pairs x gives
    /// the same q.k as rotating halves of W_halves x, at any two positions.
    func testPermutationPreservesRotaryScores() throws {
        var rng = TestRandom(8)
        let d = 8, inDim = 6
        let wq = rng.tensor([d, inDim]), wk = rng.tensor([d, inDim])
        let x = (0..<inDim).map { _ in rng.uniform() }, y = (0..<inDim).map { _ in rng.uniform() }
        func project(_ w: Tensor, _ v: [Float]) -> [Float] {
            (0..<d).map { r in (0..<inDim).reduce(Float(0)) { $0 + w.pointer[r * inDim + $1] * v[$1] } }
        }
        func rotate(_ v: [Float], pos: Int, layout: RotaryLayout) -> [Float] {
            var out = v
            for j in 0..<d / 2 {
                let angle = Float(pos) * Foundation.pow(10000, -Float(2 * j) / Float(d))
                let (a, b) = layout == .halves ? (j, j + d / 2) : (2 * j, 2 * j + 1)
                out[a] = v[a] * cos(angle) - v[b] * sin(angle)
                out[b] = v[a] * sin(angle) + v[b] * cos(angle)
            }
            return out
        }
        func score(_ q: [Float], _ k: [Float]) -> Float { zip(q, k).reduce(0) { $0 + $1.0 * $1.1 } }
        let wqH = try RotaryPermutation.convert(wq, heads: 1, from: .adjacentPairs, to: .halves)
        let wkH = try RotaryPermutation.convert(wk, heads: 1, from: .adjacentPairs, to: .halves)
        let pairs = score(rotate(project(wq, x), pos: 5, layout: .adjacentPairs), rotate(project(wk, y), pos: 2, layout: .adjacentPairs))
        let halves = score(rotate(project(wqH, x), pos: 5, layout: .halves), rotate(project(wkH, y), pos: 2, layout: .halves))
        XCTAssertEqual(pairs, halves, accuracy: 1e-5)
    }

    func testCheckpointDirectoryRoundTrip() throws {
        let c = config.with { $0.tieWordEmbeddings = false }
        let tensors = randomTensors(c, heads: [.lm, .reward], seed: 9)
        let dir = try temporaryDirectory("ckpt")
        try LlamaCheckpoint.save(config: c, tensors: tensors, to: dir)
        let (back, file) = try LlamaCheckpoint.load(dir)
        XCTAssertEqual(back, c)
        try LlamaCheckpoint.check(file.tensors, config: back, heads: [.lm, .reward], source: dir.path)
        for (name, t) in tensors { XCTAssertEqual(bits(file.tensors[name]!), bits(t), name) }
    }
}

final class ModelCheckpointTests: XCTestCase {
    func forwardLogits(_ model: LlamaModel) throws -> Tensor {
        let batch = try BatchLayout.padded([lmExample([1, 9, 4, 22, 7, 3])], batchSize: 1, seqLen: 8, padToken: 0)
        let acts = try LlamaActivations(config: model.config, batchSize: 1, seqLen: 8)
        try model.forward(batch, acts)
        return acts.logits!
    }

    /// The same weights run in HF halves layout, and permuted to Meta pairs layout run with pairs RoPE,
    /// give the same logits: the permutation and both RoPE layouts agree inside the model.
    func testRotaryLayoutsGiveSameLogits() throws {
        let config = LlamaPreset.tiny.config
        let halves = try LlamaModel(config: config, heads: .lm)
        try halves.load(randomTensors(config, heads: .lm, seed: 31), source: "random")
        var tensors = try halves.tensors().mapValues { $0.copy() }
        try RotaryPermutation.convertAll(&tensors, config: config, from: .halves, to: .adjacentPairs)
        let pairs = try LlamaModel(config: config.with { $0.rotaryLayout = .adjacentPairs }, heads: .lm)
        try pairs.load(tensors, source: "permuted")
        XCTAssertLessThan(try forwardLogits(halves).maxAbsDifference(try forwardLogits(pairs)), 1e-5)
    }

    /// save -> load (HF directory) and export -> import (llama2.c) both restore every weight bit for bit.
    func testModelSaveLoadAndLlama2c() throws {
        let config = LlamaPreset.tiny.config.with { $0.tieWordEmbeddings = false }
        let model = try LlamaModel(config: config, heads: [.lm, .reward], seed: 32)
        let dir = try temporaryDirectory("model")
        try model.save(to: dir)
        let back = try LlamaModel.load(directory: dir, heads: [.lm, .reward])
        for e in model.parameters.entries { XCTAssertEqual(bits(try back.parameters.value(e.name)), bits(try model.parameters.value(e.name)), e.name) }
        // A reward model may start from an LM checkpoint: its score head keeps its init.
        let lmOnly = try temporaryDirectory("lm")
        let lm = try LlamaModel(config: config, heads: .lm, seed: 33)
        try lm.save(to: lmOnly)
        XCTAssertThrowsError(try LlamaModel.load(directory: lmOnly, heads: [.lm, .reward])) {
            XCTAssertTrue("\($0)".contains("missing tensor 'score.weight'"), "\($0)")
        }
        XCTAssertNoThrow(try LlamaModel.load(directory: lmOnly, heads: [.reward], allowMissingHeads: true))
        let bin = dir.appendingPathComponent("model.bin")
        try model.exportLlama2c(to: bin)
        let imported = try LlamaModel.load(llama2c: bin)
        XCTAssertEqual(imported.config, config)
        for e in imported.parameters.entries { XCTAssertEqual(bits(try imported.parameters.value(e.name)), bits(try model.parameters.value(e.name)), e.name) }
    }
}
