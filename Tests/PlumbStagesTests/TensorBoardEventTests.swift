// TensorBoard event files without TensorBoard: CRC-32C against published check values, protobuf
// fields against bytes encoded by hand, and event files read back through a small TFRecord / Event
// reader (below), including a stage killed and resumed, where TensorBoard's purge rule must leave
// every step once with metrics.jsonl's figures. (pipelines/check-tensorboard.sh reads the same
// files with TensorBoard's own reader.)
import Foundation
import XCTest
@testable import PlumbStages

final class TensorBoardEventTests: XCTestCase {
    func testCRC32CMatchesPublishedCheckValues() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        // RFC 3720 appendix B.4.
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum(Array(0...31).map(UInt8.init)), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
        // Masking: rotate right 15, add 0xA282EAD8.
        let crc: UInt32 = 0xE306_9283
        XCTAssertEqual(CRC32C.masked(Array("123456789".utf8)), ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8)
    }

    func testProtobufFieldsMatchHandEncodedBytes() {
        var e = ProtobufEncoder()
        e.varint(1); e.varint(127); e.varint(128); e.varint(300)
        XCTAssertEqual(e.bytes, [0x01, 0x7F, 0x80, 0x01, 0xAC, 0x02])
        e = ProtobufEncoder()
        e.int64(2, 150)
        XCTAssertEqual(e.bytes, [0x10, 0x96, 0x01])
        e = ProtobufEncoder()
        e.int64(2, -1)
        XCTAssertEqual(e.bytes, [0x10] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
        e = ProtobufEncoder()
        e.double(1, 1.5)                       // 1.5 = 0x3FF8000000000000
        XCTAssertEqual(e.bytes, [0x09, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F])
        e = ProtobufEncoder()
        e.float(2, 1.0)                        // 1.0f = 0x3F800000
        XCTAssertEqual(e.bytes, [0x15, 0x00, 0x00, 0x80, 0x3F])
        e = ProtobufEncoder()
        e.string(1, "lr")
        XCTAssertEqual(e.bytes, [0x0A, 0x02, 0x6C, 0x72])
    }

    func testScalarEventMatchesHandEncodedBytes() {
        let bytes = TensorBoardEvent.scalars([(tag: "a", value: 2.0)], step: 3, wallTime: 0)
        // Event{wall_time=0 (09 + 8 zero bytes), step=3 (10 03), summary (2A 0A + 10 bytes)}
        // Summary{value (0A 08 + 8 bytes): Value{tag "a" (0A 01 61), simple_value 2.0f (15 00 00 00 40)}}
        XCTAssertEqual(bytes, [0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x03, 0x2A, 0x0A, 0x0A, 0x08, 0x0A, 0x01, 0x61, 0x15, 0, 0, 0, 0x40])
        let start = TensorBoardEvent.sessionStart(step: 5, wallTime: 0)
        XCTAssertEqual(Array(start.suffix(6)), [0x10, 0x05, 0x3A, 0x02, 0x08, 0x01])
        let version = TensorBoardEvent.fileVersion(wallTime: 0)
        XCTAssertEqual(Array(version.suffix(15)), [0x1A, 0x0D] + Array("brain.Event:2".utf8))
    }

    func testRecordFraming() throws {
        let frame = TensorBoardEvent.record([1, 2, 3])
        XCTAssertEqual(frame.count, 8 + 4 + 3 + 4)
        XCTAssertEqual(Array(frame.prefix(8)), [3, 0, 0, 0, 0, 0, 0, 0])
        let records = try EventFileReader.records(Data(frame))
        XCTAssertEqual(records, [[1, 2, 3]])
        var damaged = frame
        damaged[13] ^= 1
        XCTAssertThrowsError(try EventFileReader.records(Data(damaged)), "a flipped data bit must fail the data CRC")
    }

    func testLogRoundTripsThroughTheReader() throws {
        let stage = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-tb-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: stage) }
        let log = try TensorBoardLog(stageDirectory: stage, now: Date(timeIntervalSince1970: 1_800_000_000), host: "host one")
        XCTAssertEqual(log.url.lastPathComponent, "events.out.tfevents.1800000000.host_one.\(getpid())")
        try log.record(.started(totalSteps: 2, resumedAtStep: 0), wallTime: 10)
        try log.record(.evaluation(EvaluationReport(step: 0, metrics: ["val_loss": 4.25])), wallTime: 11)
        try log.record(.step(StepReport(step: 1, totalSteps: 2, loss: 3.5, learningRate: 1e-3, gradNorm: 0.75, tokens: 10,
                                        tokensPerSecond: 100, elapsedSeconds: 1, extra: ["rewards/margins": 0.125])), wallTime: 12)
        try log.record(.checkpoint(step: 1, path: "x"), wallTime: 13)
        try log.record(.finished(step: 1), wallTime: 14)
        let events = try EventFileReader.events(log.url)
        XCTAssertEqual(events.count, 3)
        XCTAssertEqual(events[0].fileVersion, "brain.Event:2")
        XCTAssertEqual(events[1].step, 0)
        XCTAssertEqual(events[1].wallTime, 11)
        XCTAssertEqual(events[1].scalars, ["eval/val_loss": 4.25])
        XCTAssertEqual(events[2].step, 1)
        XCTAssertEqual(Set(events[2].scalars.keys), ["train/loss", "train/lr", "train/grad_norm", "train/tokens_per_second", "train/rewards/margins"])
        XCTAssertEqual(events[2].scalars["train/loss"], 3.5)
        XCTAssertEqual(events[2].scalars["train/lr"]!, 1e-3, accuracy: 1e-9)
        XCTAssertEqual(events[2].scalars["train/rewards/margins"], 0.125)
    }

    func testAttemptsGetLaterFilesAndAFreshStartRemovesEarlierOnes() throws {
        let stage = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-tb-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: stage) }
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let first = try TensorBoardLog(stageDirectory: stage, now: now, host: "h")
        let second = try TensorBoardLog(stageDirectory: stage, now: now, host: "h")
        XCTAssertEqual(TensorBoardLog.seconds(second.url.lastPathComponent), 1_800_000_001, "same second: the later attempt sorts after")
        try second.record(.started(totalSteps: 9, resumedAtStep: 4))
        XCTAssertEqual(try EventFileReader.events(second.url).last?.sessionStart, 5)
        let third = try TensorBoardLog(stageDirectory: stage, now: now, host: "h")
        try third.record(.started(totalSteps: 9, resumedAtStep: 0))
        let left = try FileManager.default.contentsOfDirectory(atPath: third.url.deletingLastPathComponent().path)
        XCTAssertEqual(left, [third.url.lastPathComponent])
        XCTAssertFalse(FileManager.default.fileExists(atPath: first.url.path))
    }

    /// A stage killed after step 10 and resumed from its step-8 checkpoint: read as TensorBoard reads
    /// (files in name order, a session start dropping what was logged at its step and later), every
    /// step appears once, with metrics.jsonl's loss.
    func testKilledAndResumedStageReadsAsEachStepOnce() throws {
        let f = try StageFixtures.fixture()
        let stage = f.root.appendingPathComponent("tb-resume-\(UUID().uuidString)/sft")
        let arguments = ["sft", "--tokenizer", f.tokenizer.path, "--data", f.importSFT.path, "--init-from", "tiny", "--config", f.modelConfig.path,
                         "--seq-len", "64", "--rows", "4", "--epochs", "1", "--lr", "3e-3", "--checkpoint-every", "4", "--eval-every", "0",
                         "--out", stage.path]
        XCTAssertEqual(try PlumbProcess.run(arguments, environment: ["PLUMB_KILL_AFTER_STEP": "10"]).1, .uncaughtSignal)
        XCTAssertEqual(try PlumbProcess.run(arguments).0, 0)
        let tb = stage.appendingPathComponent("tb")
        let files = try FileManager.default.contentsOfDirectory(atPath: tb.path).sorted()
        XCTAssertEqual(files.count, 2, "one events file per attempt: \(files)")
        var steps: [Int: Float] = [:]
        for file in files {
            for event in try EventFileReader.events(tb.appendingPathComponent(file)) {
                if let start = event.sessionStart { steps = steps.filter { $0.key < start } }
                if let loss = event.scalars["train/loss"] { steps[event.step] = loss }
            }
        }
        var logged: [Int: Double] = [:]
        for line in try String(contentsOf: stage.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            if object["event"] as? String == "step" { logged[object["step"] as! Int] = object["loss"] as? Double }
        }
        XCTAssertGreaterThan(logged.count, 10)
        XCTAssertEqual(Set(steps.keys), Set(logged.keys))
        for (step, loss) in logged { XCTAssertEqual(Double(steps[step]!), loss, accuracy: 1e-6 * max(1, abs(loss)), "step \(step)") }
    }
}

/// Reads TFRecord frames (checking both CRCs) and the fields of `Event` the writer uses.
enum EventFileReader {
    struct Event {
        var wallTime: Double = 0
        var step = 0
        var fileVersion: String?
        var scalars: [String: Float] = [:]
        var sessionStart: Int?
    }

    struct Damage: Error { var reason: String }

    static func records(_ data: Data) throws -> [[UInt8]] {
        let bytes = [UInt8](data)
        var records: [[UInt8]] = [], offset = 0
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * $1) } }
        while offset < bytes.count {
            guard offset + 12 <= bytes.count else { throw Damage(reason: "header cut at \(offset)") }
            let length = Int((0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) })
            guard CRC32C.masked(bytes[offset..<offset + 8]) == u32(offset + 8) else { throw Damage(reason: "length CRC at \(offset)") }
            let start = offset + 12
            guard start + length + 4 <= bytes.count else { throw Damage(reason: "record cut at \(offset)") }
            let payload = Array(bytes[start..<start + length])
            guard CRC32C.masked(payload) == u32(start + length) else { throw Damage(reason: "data CRC at \(offset)") }
            records.append(payload)
            offset = start + length + 4
        }
        return records
    }

    static func events(_ url: URL) throws -> [Event] {
        try records(Data(contentsOf: url)).map { try event($0) }
    }

    /// Fields as (number, varint value or bytes).
    static func fields(_ bytes: [UInt8]) throws -> [(Int, UInt64, [UInt8])] {
        var out: [(Int, UInt64, [UInt8])] = [], i = 0
        func varint() throws -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard i < bytes.count else { throw Damage(reason: "varint cut") }
                let b = bytes[i]; i += 1
                value |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return value }
                shift += 7
            }
        }
        while i < bytes.count {
            let key = try varint()
            switch key & 7 {
            case 0: out.append((Int(key >> 3), try varint(), []))
            case 1: out.append((Int(key >> 3), 0, Array(bytes[i..<i + 8]))); i += 8
            case 5: out.append((Int(key >> 3), 0, Array(bytes[i..<i + 4]))); i += 4
            case 2: let n = Int(try varint()); out.append((Int(key >> 3), 0, Array(bytes[i..<i + n]))); i += n
            default: throw Damage(reason: "wire type \(key & 7)")
            }
        }
        return out
    }

    static func event(_ bytes: [UInt8]) throws -> Event {
        func littleEndian(_ b: [UInt8]) -> UInt64 { b.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) } }
        var event = Event()
        for (field, value, payload) in try fields(bytes) {
            switch field {
            case 1: event.wallTime = Double(bitPattern: littleEndian(payload))
            case 2: event.step = Int(Int64(bitPattern: value))
            case 3: event.fileVersion = String(decoding: payload, as: UTF8.self)
            case 5:
                for (_, _, entry) in try fields(payload) {
                    var tag = "", number: Float = .nan
                    for (f, _, p) in try fields(entry) {
                        if f == 1 { tag = String(decoding: p, as: UTF8.self) }
                        if f == 2 { number = Float(bitPattern: UInt32(littleEndian(p))) }
                    }
                    event.scalars[tag] = number
                }
            case 7:
                if try fields(payload).contains(where: { $0.0 == 1 && $0.1 == 1 }) { event.sessionStart = event.step }
            default: break
            }
        }
        return event
    }
}
