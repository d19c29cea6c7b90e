// Checkpoint headers from untrusted files (cases found by fuzz/run.sh or written beside them): sizes
// whose product overflows, headers naming millions of layers, shard paths leaving their directory.
import Foundation
import XCTest
@testable import PlumbModel

final class CheckpointHeaderTests: XCTestCase {
    private func llama2cHeader(_ fields: [Int32]) -> Data {
        var data = Data()
        for f in fields { withUnsafeBytes(of: f.littleEndian) { data.append(contentsOf: $0) } }
        return data + Data(count: 8)
    }

    /// fuzz/run.sh llama2c: a 36-byte file whose header names 16,776,961 layers made decode build
    /// the table of every layer's tensors before comparing sizes (a timeout under libFuzzer).
    func testLlama2cHeaderWithMillionsOfLayersIsRefusedBySize() throws {
        let data = llama2cHeader([8, 16, 0x00ff_ff01, 2, 1, -12, 4])
        XCTAssertThrowsError(try Llama2cFormat.decode(data, source: "many.bin")) { error in
            XCTAssertTrue("\(error)".hasPrefix("many.bin: header [8, 16, 16776961, 2, 1, -12, 4] implies "), "\(error)")
            XCTAssertTrue("\(error)".hasSuffix("bytes, file has 36"), "\(error)")
        }
    }

    func testLlama2cHeaderWhoseSizeOverflowsIsRefused() throws {
        let data = llama2cHeader([1 << 30, Int32.max, Int32.max, 2, 1, Int32.max, Int32.max])
        XCTAssertThrowsError(try Llama2cFormat.decode(data, source: "huge.bin")) { error in
            XCTAssertTrue("\(error)".contains("implies more bytes than a file can hold, file has 36"), "\(error)")
        }
    }

    private func safetensors(header: String, body: Int) -> Data {
        var data = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Data($0) }
        data.append(Data(header.utf8))
        return data + Data(count: body)
    }

    /// 2^32 x 2^32 elements wrap to 0 in unchecked arithmetic, which matched data_offsets [0, 0].
    func testSafetensorsShapeWhoseProductOverflowsIsRefused() throws {
        let data = safetensors(header: #"{"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#, body: 0)
        XCTAssertThrowsError(try SafeTensors.decode(data, source: "wrap.safetensors")) { error in
            XCTAssertTrue("\(error)".hasPrefix("wrap.safetensors: tensor 'x': data_offsets [0, 0] do not fit shape"), "\(error)")
        }
        let reversed = safetensors(header: #"{"x":{"dtype":"F32","shape":[-0],"data_offsets":[8,4]}}"#, body: 8)
        XCTAssertThrowsError(try SafeTensors.decode(reversed, source: "rev.safetensors")) { error in
            XCTAssertTrue("\(error)".hasPrefix("rev.safetensors: tensor 'x': data_offsets [8, 4] do not fit"), "\(error)")
        }
    }

    func testShardedIndexPathsMustStayInsideTheDirectory() throws {
        let dir = try temporaryDirectory("escape")
        for shard in ["../model.safetensors", "/etc/passwd", "sub/../../x.safetensors", ""] {
            let index = try JSONSerialization.data(withJSONObject: ["weight_map": ["model.norm.weight": shard]])
            let url = dir.appendingPathComponent(LlamaCheckpoint.indexFile)
            try index.write(to: url)
            XCTAssertThrowsError(try LlamaCheckpoint.readSharded(index: url), shard) { error in
                XCTAssertEqual("\(error)", "\(url.path): weight_map['model.norm.weight'] is '\(shard)': a shard file must be a "
                    + "relative path inside the checkpoint directory (no '..', not absolute)")
            }
        }
        XCTAssertTrue(LlamaCheckpoint.staysInside("shards/model-00001-of-00002.safetensors"))
    }
}
