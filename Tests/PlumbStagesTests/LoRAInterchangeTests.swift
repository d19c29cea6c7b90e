// Adapters in PEFT's layout (PEFTAdapterFormat) and the bad inputs of LoRA's settings: a round trip
// keeps every bit; the tensor names are PEFT's; an adapter for another base (checksum or shape) is
// refused naming both; unknown target modules list the ones a block has; rank 0 or above a
// weight's smaller side is refused; PEFT options Plumbline does not compute are refused by key.
import Foundation
import PlumbModel
import PlumbTensor
import XCTest

final class LoRAInterchangeTests: XCTestCase {
    let config = LlamaPreset.tiny.config

    func directory(_ tag: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-lora-\(tag)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func adapter(_ config: LlamaConfig, targets: [LoRATarget] = LoRATarget.allCases) throws -> LoRAAdapter {
        let a = try LoRAAdapter(config: config, settings: LoRASettings(rank: 2, alpha: 5, targets: targets), seed: 4)
        var rng = SeededRNG(seed: 8)
        for m in a.allModules { rng.fillNormal(m.b, std: 0.2) }
        return a
    }

    func bits(_ p: ParameterSet) -> [UInt32] {
        UnsafeBufferPointer(start: p.values.base, count: p.totalCount).map(\.bitPattern)
    }

    func testRoundTripKeepsEveryBitWithPEFTNames() throws {
        let base = try LlamaModel(config: config, heads: .lm, seed: 1), a = try adapter(config, targets: [.q, .v, .down])
        let dir = try directory("roundtrip")
        try PEFTAdapterFormat.save(a, base: base, baseName: "tiny-base", to: dir)
        let file = try SafeTensors.read(dir.appendingPathComponent(PEFTAdapterFormat.weightsFile))
        XCTAssertEqual(file.tensors["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"]?.shape, [2, 16])
        XCTAssertEqual(file.tensors["base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"]?.shape, [16, 2])
        XCTAssertEqual(file.tensors.count, 2 * 3 * 2)
        XCTAssertEqual(file.metadata["format"], "pt")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent(PEFTAdapterFormat.configFile))) as! [String: Any]
        XCTAssertEqual(json["peft_type"] as? String, "LORA")
        XCTAssertEqual(json["r"] as? Int, 2)
        XCTAssertEqual(json["lora_alpha"] as? Double, 5)
        XCTAssertEqual(json["target_modules"] as? [String], ["q_proj", "v_proj", "down_proj"])
        let back = try PEFTAdapterFormat.load(dir, base: base, baseSource: "the tiny base")
        XCTAssertEqual(back.settings.targets, [.q, .v, .down])
        XCTAssertEqual(bits(back.parameters), bits(a.parameters))
    }

    /// A base running in llama2.c's rotary layout writes B of q / k in HF's layout: loaded on the same
    /// weights in HF's layout, the adapted logits agree (within rounding of reordered sums: 1e-5).
    func testRotaryLayoutIsHuggingFacesOnDisk() throws {
        let pairs = { var c = self.config; c.rotaryLayout = .adjacentPairs; return c }()
        let basePairs = try LlamaModel(config: pairs, heads: .lm, seed: 2)
        basePairs.initialize(seed: 2, std: 0.3)
        var tensors = try basePairs.tensors().mapValues { $0.copy() }
        try RotaryPermutation.convertAll(&tensors, config: pairs, from: .adjacentPairs, to: .halves)
        let baseHalves = try LlamaModel(config: config, heads: .lm)
        try baseHalves.load(tensors, source: "converted")
        XCTAssertEqual(try BaseChecksum.of(basePairs), try BaseChecksum.of(baseHalves))
        let a = try adapter(pairs), dir = try directory("rotary")
        try PEFTAdapterFormat.save(a, base: basePairs, baseName: nil, to: dir)
        let b = try PEFTAdapterFormat.load(dir, base: baseHalves, baseSource: "halves")
        let batch = try BatchLayout.padded([BatchLayout.Example(tokens: [1, 7, 3, 9, 2, 5], targets: [7, 3, 9, 2, 5, -1])],
                                           batchSize: 1, seqLen: 6, padToken: 0)
        let x = try LlamaActivations(config: pairs, batchSize: 1, seqLen: 6), y = try LlamaActivations(config: config, batchSize: 1, seqLen: 6)
        try basePairs.forward(batch, x, adapter: a)
        try baseHalves.forward(batch, y, adapter: b)
        XCTAssertLessThanOrEqual(try x.logits!.maxAbsDifference(y.logits!), 1e-5)
    }

    func testAdapterForAnotherBaseIsRefusedNamingBoth() throws {
        let base = try LlamaModel(config: config, heads: .lm, seed: 1), other = try LlamaModel(config: config, heads: .lm, seed: 2)
        let dir = try directory("otherbase")
        try PEFTAdapterFormat.save(try adapter(config), base: base, baseName: nil, to: dir)
        let sums = (try BaseChecksum.of(base), try BaseChecksum.of(other))
        XCTAssertThrowsError(try PEFTAdapterFormat.load(dir, base: other, baseSource: "/bases/other")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(sums.0) && text.contains(sums.1) && text.contains("/bases/other"), text)
        }
        var wider = config; wider.hiddenDim = 48
        let widerBase = try LlamaModel(config: wider, heads: .lm, seed: 1)
        XCTAssertThrowsError(try PEFTAdapterFormat.load(dir, base: widerBase, baseSource: "/bases/wider")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("hidden 40") && text.contains("hidden 48") && text.contains("/bases/wider"), text)
        }
        XCTAssertThrowsError(try widerBase.forward(try BatchLayout.padded([try BatchLayout.Example(tokens: [1, 2], targets: [2, -1])],
                                                                          batchSize: 1, seqLen: 2, padToken: 0),
                                                   try LlamaActivations(config: wider, batchSize: 1, seqLen: 2), adapter: try adapter(config)))
    }

    func testBadSettingsAreRefused() throws {
        XCTAssertThrowsError(try LoRATarget.parseList(["q_proj", "lm_head"])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("lm_head") && text.contains("q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj"), text)
        }
        XCTAssertEqual(try LoRATarget.parseList(["q", "self_attn.v_proj", "q_proj"]), [.q, .v])
        XCTAssertEqual(try LoRATarget.parseList(["all-linear"]), LoRATarget.allCases)
        XCTAssertThrowsError(try LoRAAdapter(config: config, settings: LoRASettings(rank: 0))) { error in
            XCTAssertTrue("\(error)".contains("rank 0"), "\(error)")
        }
        // k_proj is (8, 16) in the tiny model: rank 8 fits, 9 does not.
        XCTAssertNoThrow(try LoRAAdapter(config: config, settings: LoRASettings(rank: 8)))
        XCTAssertThrowsError(try LoRAAdapter(config: config, settings: LoRASettings(rank: 9))) { error in
            XCTAssertTrue("\(error)".contains("k_proj [8, 16]"), "\(error)")
        }
        XCTAssertNoThrow(try LoRAAdapter(config: config, settings: LoRASettings(rank: 9, targets: [.q, .o, .gate, .up, .down])))
        XCTAssertThrowsError(try LoRAAdapter(config: config, settings: LoRASettings(dropout: 1)))
        // Settings as PEFT writes them, with defaults for missing keys.
        let decoded = try JSONDecoder().decode(LoRASettings.self, from: Data(#"{"r": 16, "target_modules": "all-linear"}"#.utf8))
        XCTAssertEqual(decoded, LoRASettings(rank: 16, alpha: 16, dropout: 0))
        XCTAssertThrowsError(try JSONDecoder().decode(LoRASettings.self, from: Data(#"{"target_modules": ["q_proj", "wq"]}"#.utf8)))
    }

    func testPEFTOptionsPlumblineDoesNotComputeAreRefused() throws {
        let base = try LlamaModel(config: config, heads: .lm, seed: 1), dir = try directory("options")
        try PEFTAdapterFormat.save(try adapter(config), base: base, baseName: nil, to: dir)
        let url = dir.appendingPathComponent(PEFTAdapterFormat.configFile)
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        json["use_rslora"] = true
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        XCTAssertThrowsError(try PEFTAdapterFormat.load(dir, base: base, baseSource: "base")) { error in
            XCTAssertTrue("\(error)".contains("use_rslora") && "\(error)".contains(url.path), "\(error)")
        }
    }
}
