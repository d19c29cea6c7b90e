// A build-tool plugin on PlumbCLI: runs PlumbBuildInfo to generate BuildInfo.swift (the source
// tree's SHA-256 and the built-in pipeline files) whenever Package.swift, a file under Sources/ or
// a pipeline file changes, so the `plumb` binary carries its code version and its main job.
import Foundation
import PackagePlugin

@main
struct EmbedBuildInfo: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let root = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appending(path: "BuildInfo.swift")
        return [.buildCommand(
            displayName: "Embedding the code version and the built-in pipelines",
            executable: try context.tool(named: "PlumbBuildInfo").url,
            arguments: [root.path, output.path],
            inputFiles: inputs(root),
            outputFiles: [output])]
    }

    /// Package.swift, every file under Sources/ and every pipelines/*.yaml.
    func inputs(_ root: URL) -> [URL] {
        let fm = FileManager.default
        var files = [root.appending(path: "Package.swift")]
        if let walker = fm.enumerator(at: root.appending(path: "Sources"), includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles]) {
            for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
                files.append(url)
            }
        }
        let pipelines = root.appending(path: "pipelines")
        for name in (try? fm.contentsOfDirectory(atPath: pipelines.path)) ?? [] where name.hasSuffix(".yaml") {
            files.append(pipelines.appending(path: name))
        }
        return files
    }
}
