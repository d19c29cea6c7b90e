// `sft` with a `lora` setting, run by hand (`plumb stage sft --lora ...`) over a base SFT stage: the
// stage keeps the adapter only (PEFT's files), lowers the validation loss, leaves the base stage's
// model alone, and a later stage loading it gets the base with the adapter merged in. Bad settings
// (a fresh model, an unknown target) are refused naming the key.
import Foundation
import PlumbModel
import PlumbStages
import PlumbStore
import XCTest

final class LoRAStageTests: XCTestCase {
    func testLoRASFTKeepsTheAdapterAndLoadsMerged() throws {
        let f = try StageFixtures.fixture()
        let root = f.root.appendingPathComponent("lora-\(UUID().uuidString)")
        let base = root.appendingPathComponent("run/sft"), lora = root.appendingPathComponent("run/sft-lora")
        try StageFixtures.plumb(["sft", "--tokenizer", f.tokenizer.path, "--data", f.importSFT.path, "--init-from", "tiny",
                                 "--config", f.modelConfig.path, "--seq-len", "64", "--rows", "4", "--epochs", "1", "--lr", "3e-3",
                                 "--eval-every", "0", "--out", base.path])
        try StageFixtures.plumb(["stage", "sft", "--tokenizer", f.tokenizer.path, "--data", f.importSFT.path, "--init-from", base.path,
                                 "--seq-len", "64", "--rows", "4", "--epochs", "1", "--lora", "rank=4 alpha=8 lr=3e-3", "--out", lora.path])
        let manifest = try StageManifest.read(from: lora)
        XCTAssertEqual(manifest.status, .complete)
        XCTAssertEqual(manifest.artifacts.map(\.name), [PEFTAdapterFormat.weightsFile])
        XCTAssertTrue(FileManager.default.fileExists(atPath: lora.appendingPathComponent(PEFTAdapterFormat.configFile).path))
        let initial = try XCTUnwrap(manifest.metrics["initial_val_loss"]), final = try XCTUnwrap(manifest.metrics["val_loss"])
        XCTAssertLessThan(final, initial, "LoRA SFT did not lower the validation loss")
        // Loaded by a later stage: the base with the adapter merged in; the base stage is untouched.
        let baseModel = try StageModel.load(base), merged = try StageModel.load(lora)
        let (reloadedBase, adapter) = try StageModel.loadAdapter(lora)
        XCTAssertEqual(try BaseChecksum.of(reloadedBase), try BaseChecksum.of(baseModel))
        XCTAssertEqual(adapter.settings.rank, 4)
        let changed = try merged.tensors().filter { name, t in try t.maxAbsDifference(try baseModel.parameters.value(name)) > 0 }.keys
        XCTAssertEqual(Set(changed.map { $0.components(separatedBy: ".").dropLast().last! }),
                       ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    }

    /// `base=bf16`: the stage trains over the base's bf16 rounding, lowers the validation loss, records
    /// the dtype and the fp32 base's checksum beside the adapter, and loads merged onto the fp32 base
    /// it was rounded from (with a warning stating the measured difference).
    func testLoRASFTOnABF16Base() throws {
        let f = try StageFixtures.fixture()
        let root = f.root.appendingPathComponent("lora-bf16-\(UUID().uuidString)")
        let base = root.appendingPathComponent("run/sft"), lora = root.appendingPathComponent("run/sft-lora")
        try StageFixtures.plumb(["sft", "--tokenizer", f.tokenizer.path, "--data", f.importSFT.path, "--init-from", "tiny",
                                 "--config", f.modelConfig.path, "--seq-len", "64", "--rows", "4", "--epochs", "1", "--lr", "3e-3",
                                 "--eval-every", "0", "--out", base.path])
        try StageFixtures.plumb(["stage", "sft", "--tokenizer", f.tokenizer.path, "--data", f.importSFT.path, "--init-from", base.path,
                                 "--seq-len", "64", "--rows", "4", "--epochs", "1", "--lora", "rank=4 alpha=8 lr=3e-3 base=bf16", "--out", lora.path])
        let manifest = try StageManifest.read(from: lora)
        XCTAssertEqual(manifest.status, .complete)
        let initial = try XCTUnwrap(manifest.metrics["initial_val_loss"]), final = try XCTUnwrap(manifest.metrics["val_loss"])
        XCTAssertLessThan(final, initial, "LoRA SFT on a bf16 base did not lower the validation loss")
        let (fp32Base, adapter) = try StageModel.loadAdapter(lora)
        XCTAssertEqual(fp32Base.baseDType, .fp32)
        XCTAssertEqual(adapter.settings.rank, 4)
        let merged = try StageModel.load(lora), baseModel = try StageModel.load(base)
        XCTAssertGreaterThan(try merged.tensors()["model.layers.0.mlp.up_proj.weight"]!.maxAbsDifference(try baseModel.value("model.layers.0.mlp.up_proj.weight")), 0)
    }

    func testLoRAWithoutABaseOrWithAnUnknownTargetIsRefused() throws {
        let f = try StageFixtures.fixture()
        let out = f.root.appendingPathComponent("lora-bad-\(UUID().uuidString)/run/sft")
        XCTAssertThrowsError(try StageFixtures.plumb(["stage", "sft", "--tokenizer", f.tokenizer.path, "--data", f.importSFT.path,
                                                      "--config", f.modelConfig.path, "--lora", "rank=4", "--out", out.path])) { error in
            XCTAssertTrue("\(error)".contains("init-from"), "\(error)")
        }
        XCTAssertThrowsError(try StageFixtures.plumb(["stage", "sft", "--tokenizer", f.tokenizer.path, "--data", f.importSFT.path,
                                                      "--init-from", "tiny", "--lora", "targets=q_proj,lm_head", "--out", out.path])) { error in
            XCTAssertTrue("\(error)".contains("lm_head") && "\(error)".contains("gate_proj"), "\(error)")
        }
    }
}
