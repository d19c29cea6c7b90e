// libFuzzer entry points. One binary holds every target; `PLUMB_FUZZ_TARGET` picks the one that
// runs (libFuzzer allows one `LLVMFuzzerTestOneInput` per binary). With `PLUMB_FUZZ_SEEDS=DIR`,
// initialisation also writes the seeds that need plumb's own writers (shards, checkpoints) to DIR.
import Foundation

/// The fuzz targets, by the name `fuzz/run.sh` takes.
enum FuzzTarget: String, CaseIterable {
    case json, schema, csv, safetensors, llama2c, shard, labelStudio = "label-studio", argilla, records

    var run: (UnsafeRawBufferPointer) -> Void {
        switch self {
        case .json: return InputTargets.json
        case .schema: return StoreTargets.schema
        case .csv: return InputTargets.csv
        case .safetensors: return CheckpointTargets.safetensors
        case .llama2c: return CheckpointTargets.llama2c
        case .shard: return StoreTargets.shard
        case .labelStudio: return ImportTargets.labelStudio
        case .argilla: return ImportTargets.argilla
        case .records: return ImportTargets.records
        }
    }
}

nonisolated(unsafe) private var selected: FuzzTarget = .json

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    let environment = ProcessInfo.processInfo.environment
    let name = environment["PLUMB_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("PLUMB_FUZZ_TARGET='\(name)' is not one of: \(names)\n".utf8))
        exit(2)
    }
    selected = target
    if let directory = environment["PLUMB_FUZZ_SEEDS"] {
        do { try Seeds.write(for: target, into: URL(fileURLWithPath: directory)) } catch {
            FileHandle.standardError.write(Data("cannot write seeds to \(directory): \(error)\n".utf8))
            exit(2)
        }
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    selected.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                       _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// SwiftPM links an executable target's entry point as `<module>_main`; it hands over to libFuzzer.
@_cdecl("PlumbFuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return runDriver(&count, &arguments) { data, size in fuzzerTestOneInput(data, size) }
}
