// safetensors: Hugging Face's tensor file format.
//
// Layout (https://github.com/huggingface/safetensors, "Format"):
//   8 bytes   N, little-endian u64: byte length of the header
//   N bytes   JSON header: { "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
//                            "__metadata__": {"<key>": "<string>"} }   (padded with spaces)
//   rest      the byte buffer; data_offsets are relative to its start, little-endian, row-major.
// We write F32 only, tensors in name order (deterministic bytes); we read F32, F16 and BF16 into F32.
import Foundation
import PlumbFiles
import PlumbTensor

/// Element types read from safetensors files.
public enum SafeTensorsDType: String, Sendable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"

    var byteSize: Int { self == .f32 ? 4 : 2 }
}

/// Tensors by name, plus the file's `__metadata__`.
public struct TensorFile {
    public var tensors: [String: Tensor]
    public var metadata: [String: String]

    public init(tensors: [String: Tensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }
}

public enum SafeTensors {
    /// The complete file bytes for `file`: header then F32 data, tensors sorted by name.
    public static func encode(_ file: TensorFile) throws -> [Data] {
        let names = file.tensors.keys.sorted()
        var header: [String: Any] = [:]
        var offset = 0
        for name in names {
            let t = file.tensors[name]!
            let bytes = t.count * 4
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        if !file.metadata.isEmpty { header["__metadata__"] = file.metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        while json.count % 8 != 0 { json.append(0x20) }  // pad so the data starts 8-byte aligned
        var prefix = Data(count: 8)
        prefix.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(json.count).littleEndian, as: UInt64.self) }
        var body = Data(count: offset)
        body.withUnsafeMutableBytes { raw in
            var at = 0
            for name in names {
                let t = file.tensors[name]!
                let dst = (raw.baseAddress! + at).assumingMemoryBound(to: UInt32.self)
                let src = UnsafeRawPointer(t.pointer).assumingMemoryBound(to: UInt32.self)
                for i in 0..<t.count { dst[i] = src[i].littleEndian }
                at += t.count * 4
            }
        }
        return [prefix, json, body]
    }

    /// Writes `file` to `url` atomically.
    public static func write(_ file: TensorFile, to url: URL) throws {
        try AtomicFile.write(try encode(file), to: url)
    }

    /// Reads a safetensors file; every tensor comes back as F32.
    public static func read(_ url: URL) throws -> TensorFile {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw CheckpointError("\(url.path): cannot read: \(error.localizedDescription)")
        }
        return try decode(data, source: url.path)
    }

    /// Parses safetensors bytes; `source` names the file in errors.
    public static func decode(_ data: Data, source: String) throws -> TensorFile {
        guard data.count >= 8 else { throw CheckpointError("\(source): \(data.count) bytes is too short for a safetensors file") }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw CheckpointError("\(source): header length \(headerLength) exceeds the file size \(data.count)")
        }
        let headerEnd = 8 + Int(headerLength)
        let object = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd))
        guard let header = object as? [String: Any] else {
            throw CheckpointError("\(source): the header is not a JSON object")
        }
        var file = TensorFile()
        if let meta = header["__metadata__"] {
            guard let m = meta as? [String: String] else { throw CheckpointError("\(source): '__metadata__' must map strings to strings") }
            file.metadata = m
        }
        let bufferSize = data.count - headerEnd
        for (name, entry) in header where name != "__metadata__" {
            let spec = try TensorSpec(name: name, entry: entry, source: source)
            guard spec.begin >= 0, spec.begin <= spec.end, spec.end <= bufferSize, let count = spec.count,
                  count.multipliedReportingOverflow(by: spec.dtype.byteSize) == (spec.end - spec.begin, false) else {
                throw CheckpointError("\(source): tensor '\(name)': data_offsets [\(spec.begin), \(spec.end)] do not fit shape \(spec.shape) of \(spec.dtype.rawValue) in a buffer of \(bufferSize) bytes")
            }
            let tensor = Tensor(zeros: spec.shape)
            data.withUnsafeBytes { raw in
                convert(raw.baseAddress! + headerEnd + spec.begin, spec.dtype, into: tensor.pointer, count: count)
            }
            file.tensors[name] = tensor
        }
        return file
    }

    /// One header entry, checked.
    private struct TensorSpec {
        let dtype: SafeTensorsDType
        let shape: [Int]
        let begin: Int
        let end: Int
        /// The element count; nil when the product overflows.
        var count: Int? { CheckedCount.product(shape) }

        init(name: String, entry: Any, source: String) throws {
            guard let e = entry as? [String: Any], let d = e["dtype"] as? String,
                  let shape = e["shape"] as? [Int], let offsets = e["data_offsets"] as? [Int], offsets.count == 2 else {
                throw CheckpointError("\(source): tensor '\(name)': header entry needs 'dtype', 'shape' and two 'data_offsets'")
            }
            guard let dtype = SafeTensorsDType(rawValue: d) else {
                throw CheckpointError("\(source): tensor '\(name)': dtype '\(d)' is not supported (F32, F16, BF16)")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw CheckpointError("\(source): tensor '\(name)': negative dimension in shape \(shape)") }
            self.dtype = dtype; self.shape = shape; self.begin = offsets[0]; self.end = offsets[1]
        }
    }

    /// Little-endian `dtype` elements at `src` to F32 at `dst`.
    private static func convert(_ src: UnsafeRawPointer, _ dtype: SafeTensorsDType, into dst: UnsafeMutablePointer<Float>, count: Int) {
        switch dtype {
        case .f32:
            for i in 0..<count { dst[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case .bf16:
            for i in 0..<count { dst[i] = Float(bitPattern: UInt32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16) }
        case .f16:
            for i in 0..<count { dst[i] = halfToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        }
    }

    /// IEEE 754 binary16 to binary32, exact (subnormals, infinities and NaN included).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exponent = Int((h >> 10) & 0x1f)
        let mantissa = UInt32(h & 0x3ff)
        if exponent == 0 {
            // zero or subnormal: mantissa * 2^-24
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -magnitude : magnitude
        }
        if exponent == 31 { return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13)) }
        return Float(bitPattern: sign | (UInt32(exponent - 15 + 127) << 23) | (mantissa << 13))
    }
}
