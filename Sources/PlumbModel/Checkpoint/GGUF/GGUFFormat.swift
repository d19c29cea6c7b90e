// GGUF, llama.cpp's file format, version 3 (ggml docs/gguf.md; METHODS.md section 14), little-endian:
//   header       "GGUF", uint32 version 3, uint64 tensor count, uint64 key-value count
//   key-values   key (string), uint32 value type, value; string = uint64 byte length + bytes (no NUL);
//                array = uint32 element type + uint64 count + elements
//   tensor infos name (string), uint32 n_dims, uint64 dims (ne0 first: the reverse of PyTorch's
//                order, so a (out, in) matrix is [in, out]), uint32 type, uint64 offset from the
//                data section's start (a multiple of the alignment)
//   padding to `general.alignment` (32 unless the key says otherwise), then every tensor's data,
//   each padded to the alignment.
// Tensor types used here: F32 = 0, F16 = 1, Q8_0 = 8 (blocks of 32 along ne0: fp16 scale, 32 int8,
// quantised as `Q8Matrix.quantiseBlock`, so plumb's q8 decoder reads exactly the exported weights).
import PlumbTensor

/// The value types of GGUF's key-values.
public enum GGUFValueType: UInt32, Sendable {
    case uint8 = 0, int8, uint16, int16, uint32, int32, float32, bool, string, array, uint64, int64, float64
}

/// One metadata value. Strings are bytes (GGUF does not require UTF-8 of token pieces).
public enum GGUFValue: Equatable, Sendable {
    case uint32(UInt32)
    case int32(Int32)
    case uint64(UInt64)
    case float32(Float)
    case bool(Bool)
    case string([UInt8])
    case stringArray([[UInt8]])
    case float32Array([Float])
    case int32Array([Int32])

    public static func text(_ s: String) -> GGUFValue { .string(Array(s.utf8)) }

    /// The value as text when it is a string.
    public var textValue: String? {
        if case .string(let b) = self { return String(decoding: b, as: UTF8.self) }
        return nil
    }

    /// The value as an integer when it is one of the integer types.
    public var intValue: Int? {
        switch self {
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        default: return nil
        }
    }
}

/// Tensor data types written by the exporter.
public enum GGUFTensorType: UInt32, Sendable, CaseIterable {
    case f32 = 0
    case f16 = 1
    case q8_0 = 8

    /// Bytes of `elements` values (Q8_0: 34 bytes per 32).
    public func byteCount(elements: Int) -> Int {
        switch self {
        case .f32: return 4 * elements
        case .f16: return 2 * elements
        case .q8_0: return elements / 32 * 34
        }
    }
}

/// A tensor as stored: name, dims in GGUF order (ne0 first), type and its encoded bytes.
public struct GGUFTensor: Equatable, Sendable {
    public var name: String
    public var dims: [Int]
    public var type: GGUFTensorType
    public var data: [UInt8]

    public init(name: String, dims: [Int], type: GGUFTensorType, data: [UInt8]) {
        self.name = name; self.dims = dims; self.type = type; self.data = data
    }

    public var elementCount: Int { dims.reduce(1, *) }
}

/// A whole GGUF file's content: ordered key-values and tensors.
public struct GGUFFile: Sendable {
    public static let magic: [UInt8] = Array("GGUF".utf8)
    public static let version: UInt32 = 3
    public static let defaultAlignment = 32

    public var metadata: [(key: String, value: GGUFValue)]
    public var tensors: [GGUFTensor]

    public init(metadata: [(key: String, value: GGUFValue)] = [], tensors: [GGUFTensor] = []) {
        self.metadata = metadata; self.tensors = tensors
    }

    public subscript(key: String) -> GGUFValue? { metadata.first { $0.key == key }?.value }

    /// `general.alignment` when present, else 32.
    public var alignment: Int { self["general.alignment"]?.intValue ?? Self.defaultAlignment }
}

/// fp32 <-> the tensor encodings.
public enum GGUFEncoding {
    /// Row-major values (rows of ne0 = `rowLength`) in `type`; Q8_0 needs rowLength % 32 == 0.
    public static func encode(_ values: UnsafeBufferPointer<Float>, type: GGUFTensorType) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(type.byteCount(elements: values.count))
        switch type {
        case .f32:
            for v in values { appendLE(v.bitPattern, to: &out) }
        case .f16:
            for v in values { appendLE(Float16(v).bitPattern, to: &out) }
        case .q8_0:
            var q = [Int8](repeating: 0, count: 32)
            var d: Float = 0
            for b in 0..<values.count / 32 {
                q.withUnsafeMutableBufferPointer { Q8Matrix.quantiseBlock(values.baseAddress! + 32 * b, q: $0.baseAddress!, scale: &d) }
                appendLE(Float16(d).bitPattern, to: &out)
                out += q.map { UInt8(bitPattern: $0) }
            }
        }
        return out
    }

    /// The fp32 values of encoded tensor data (Q8_0 dequantised as d * q).
    public static func decode(_ data: [UInt8], type: GGUFTensorType, elements: Int) -> [Float] {
        switch type {
        case .f32:
            return (0..<elements).map { Float(bitPattern: readLE(data, 4 * $0, as: UInt32.self)) }
        case .f16:
            return (0..<elements).map { Float(Float16(bitPattern: readLE(data, 2 * $0, as: UInt16.self))) }
        case .q8_0:
            var out: [Float] = []
            out.reserveCapacity(elements)
            for b in 0..<elements / 32 {
                let d = Float(Float16(bitPattern: readLE(data, 34 * b, as: UInt16.self)))
                for j in 0..<32 { out.append(d * Float(Int8(bitPattern: data[34 * b + 2 + j]))) }
            }
            return out
        }
    }

    static func appendLE<T: FixedWidthInteger>(_ v: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    static func readLE<T: FixedWidthInteger>(_ data: [UInt8], _ at: Int, as: T.Type) -> T {
        var v: T = 0
        for i in 0..<MemoryLayout<T>.size { v |= T(data[at + i]) << (8 * i) }
        return v
    }
}
