// `plumb bench shards`: write and read throughput (MB/s of JSON text) and compression ratio of record
// shards, against gzip of the same JSONL timed in the same run as the anchor (its command-line tool,
// process start included). The input is repeated to reach a measurable size; ratios are also given on
// one copy, since repetition can flatter a compressor whose window spans a whole copy.
//   read = decompress + split lines + end-marker check;  cpu = user + system seconds, all threads
import Foundation
import PlumbFiles

public enum ShardsBench {
    public struct Options: Sendable {
        /// JSONL(.gz) input.
        public var input = "../shared/data/hh-rlhf/harmless-base-test.head1500.jsonl.gz"
        /// Repeat the input until it is at least this many MB.
        public var targetMb = 64
        public var level: Int32 = 3
        /// zstd worker threads (0: compress on the calling thread).
        public var threads = Int32(ProcessInfo.processInfo.activeProcessorCount)
        public var gzipLevel = 6
        /// Threads decoding zstd frames when reading.
        public var readThreads = ProcessInfo.processInfo.activeProcessorCount
        /// Reads timed per decoder (and for gzip -dc); the fastest is reported.
        public var repeats = 3
        /// Scratch directory (nil: the system temporary directory).
        public var workDir: String?
        public init() {}
    }

    public struct Report: Codable, Sendable {
        public var bench = "shards"
        public var input: String
        public var inputBytes: Int, copies: Int, records: Int, rawBytes: Int, shards: Int
        public var zstdLevel: Int, zstdThreadsRequested: Int, zstdThreadsUsed: Int
        public var writeMBs: Double, readMBs: Double, readThreads: Int, readMBs1Thread: Double
        public var readCPUs: Double, readCPUs1Thread: Double, gzipReadCPUs: Double, readCPUAdvantageVsGzip1Thread: Double
        public var ratio: Double, ratioOneCopy: Double
        public var gzipLevel: Int, gzipWriteMBs: Double, gzipReadMBs: Double, gzipRatio: Double, gzipRatioOneCopy: Double
        public var readSpeedupVsGzip: Double, readSpeedupVsGzip1Thread: Double, ratioVsGzip: Double
        public var peakRSSBytes: Int
        public var readRepeats: Int
        public var loadAverage1Min: Double
        public var note: String
        enum CodingKeys: String, CodingKey {
            case bench, input, inputBytes = "input_bytes", copies, records, rawBytes = "raw_bytes", shards
            case zstdLevel = "zstd_level", zstdThreadsRequested = "zstd_threads_requested", zstdThreadsUsed = "zstd_threads_used"
            case writeMBs = "write_mb_s", readMBs = "read_mb_s", readThreads = "read_threads", readMBs1Thread = "read_mb_s_1_thread"
            case readCPUs = "read_cpu_s", readCPUs1Thread = "read_cpu_s_1_thread", gzipReadCPUs = "gzip_read_cpu_s"
            case readCPUAdvantageVsGzip1Thread = "read_cpu_advantage_vs_gzip_1_thread", ratio, ratioOneCopy = "ratio_one_copy"
            case gzipLevel = "gzip_level", gzipWriteMBs = "gzip_write_mb_s", gzipReadMBs = "gzip_read_mb_s", gzipRatio = "gzip_ratio"
            case gzipRatioOneCopy = "gzip_ratio_one_copy", readSpeedupVsGzip = "read_speedup_vs_gzip"
            case readSpeedupVsGzip1Thread = "read_speedup_vs_gzip_1_thread", ratioVsGzip = "ratio_vs_gzip", peakRSSBytes = "peak_rss_bytes"
            case readRepeats = "read_repeats", loadAverage1Min = "load_average_1min", note
        }
    }

    public static func run(_ o: Options) throws -> Report {
        guard let gzip = ProcessTiming.findExecutable("gzip") else { throw BenchmarkError("gzip is not installed", hint: "apt-get install gzip") }
        let scratch = URL(fileURLWithPath: o.workDir ?? NSTemporaryDirectory()).appendingPathComponent("plumb-bench-shards-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }

        let one = try ProcessTiming.loadJSONL(o.input, gzip: gzip)
        let copies = max(1, (o.targetMb * 1_000_000 + one.count - 1) / one.count)
        var text = Data(capacity: one.count * copies)
        for _ in 0..<copies { text.append(one) }
        let lines = ShardTiming.lineRanges(text)

        let settings = ZstdSettings(level: o.level, workers: o.threads)
        let write = try ShardTiming.write(text, lines, into: scratch.appendingPathComponent("zstd"), settings: settings)
        let (readSeconds, readCPU) = try fastest(o.repeats) { try ShardTiming.read(write.files, threads: o.readThreads) }
        let (readSeconds1, readCPU1) = try fastest(o.repeats) { try ShardTiming.read(write.files, threads: 1) }
        let single = try ShardTiming.write(one, ShardTiming.lineRanges(one), into: scratch.appendingPathComponent("zstd-one"), settings: settings)

        let jsonl = scratch.appendingPathComponent("all.jsonl")
        try text.write(to: jsonl)
        let gz = scratch.appendingPathComponent("all.jsonl.gz")
        let gzipWrite = try ProcessTiming.run(gzip, ["-c", "-\(o.gzipLevel)", jsonl.path], stdoutTo: gz)
        let (gzipRead, gzipReadCPU) = try fastest(o.repeats) { () throws -> (Double, Double) in
            let cpuBefore = ProcessTiming.cpuSeconds(RUSAGE_CHILDREN)
            let wall = try ProcessTiming.run(gzip, ["-dc", gz.path], stdoutTo: nil)
            return (wall, ProcessTiming.cpuSeconds(RUSAGE_CHILDREN) - cpuBefore)
        }
        let oneFile = scratch.appendingPathComponent("one.jsonl")
        try one.write(to: oneFile)
        let oneGz = scratch.appendingPathComponent("one.jsonl.gz")
        _ = try ProcessTiming.run(gzip, ["-c", "-\(o.gzipLevel)", oneFile.path], stdoutTo: oneGz)

        let raw = Double(text.count), mb = raw / 1e6
        let zstdRatio = raw / Double(write.compressed)
        let gzipRatio = raw / Double(try ProcessTiming.fileSize(gz))
        return Report(input: o.input, inputBytes: one.count, copies: copies, records: lines.count, rawBytes: text.count, shards: write.files.count,
                      zstdLevel: Int(o.level), zstdThreadsRequested: Int(o.threads), zstdThreadsUsed: Int(write.workers),
                      writeMBs: mb / write.seconds, readMBs: mb / readSeconds, readThreads: o.readThreads, readMBs1Thread: mb / readSeconds1,
                      readCPUs: readCPU, readCPUs1Thread: readCPU1, gzipReadCPUs: gzipReadCPU, readCPUAdvantageVsGzip1Thread: gzipReadCPU / readCPU1,
                      ratio: zstdRatio, ratioOneCopy: Double(one.count) / Double(single.compressed),
                      gzipLevel: o.gzipLevel, gzipWriteMBs: mb / gzipWrite, gzipReadMBs: mb / gzipRead, gzipRatio: gzipRatio,
                      gzipRatioOneCopy: Double(one.count) / Double(try ProcessTiming.fileSize(oneGz)),
                      readSpeedupVsGzip: gzipRead / readSeconds, readSpeedupVsGzip1Thread: gzipRead / readSeconds1, ratioVsGzip: zstdRatio / gzipRatio,
                      peakRSSBytes: peakRSSBytes() ?? -1, readRepeats: o.repeats, loadAverage1Min: loadAverageOneMinute(),
                      note: "input repeated \(copies)x; read = decompress + split lines + end-marker check, fastest of \(o.repeats); "
                          + "gzip via its CLI including process start, fastest of \(o.repeats); cpu = user+system seconds")
    }

    /// The run with the least wall time among `repeats` runs of `measure` (which returns wall, cpu).
    static func fastest(_ repeats: Int, _ measure: () throws -> (Double, Double)) throws -> (Double, Double) {
        var best = try measure()
        for _ in 1..<max(repeats, 1) {
            let next = try measure()
            if next.0 < best.0 { best = next }
        }
        return best
    }
}

/// Writing and reading the benchmark's shards.
enum ShardTiming {
    /// Line ranges (without the newline) of JSONL text.
    static func lineRanges(_ text: Data) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        text.withUnsafeBytes { bytes in
            var start = 0
            for i in 0..<bytes.count where bytes[i] == 0x0A {
                if i > start { ranges.append(start..<i) }
                start = i + 1
            }
        }
        return ranges
    }

    static func write(_ text: Data, _ lines: [Range<Int>], into directory: URL, settings: ZstdSettings) throws
        -> (seconds: Double, files: [URL], compressed: Int, workers: Int32) {
        var options = ShardWriter.Options()
        options.zstd = settings
        options.requireSchema = false   // HH-RLHF rows have no "schema" field; the scan still runs
        let start = monotonicSeconds()
        let writer = try ShardWriter(directory: directory, name: "hh", options: options)
        try text.withUnsafeBytes { bytes in
            for range in lines {
                try writer.append(jsonLine: UnsafeRawBufferPointer(rebasing: bytes[range]))
            }
        }
        let files = try writer.finish()
        let seconds = monotonicSeconds() - start
        return (seconds, files.map { directory.appendingPathComponent($0.file) }, files.reduce(0) { $0 + $1.compressedBytes }, writer.workersInUse)
    }

    /// Wall and CPU seconds (user + system, all threads) to read every line of `files`.
    static func read(_ files: [URL], threads: Int) throws -> (Double, Double) {
        var options = ShardReader.Options()
        options.decoding = .frames(threads: threads)
        let cpuStart = ProcessTiming.cpuSeconds(RUSAGE_SELF)
        let start = monotonicSeconds()
        let reader = ShardReader(files: files, options: options)
        var bytes = 0
        while let line = try reader.nextLine() { bytes += line.count + 1 }
        let seconds = monotonicSeconds() - start
        let cpu = ProcessTiming.cpuSeconds(RUSAGE_SELF) - cpuStart
        if bytes == 0 { throw BenchmarkError("bench shards: read nothing back from \(files.first?.path ?? "no shard")") }
        return (seconds, cpu)
    }
}
