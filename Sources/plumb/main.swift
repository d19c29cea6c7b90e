// The `plumb` executable: everything lives in PlumbCLI so that tests can run commands in-process.
import PlumbCLI
import PlumbTensor

OpenBLASKernels.chooseOrCheck()
BuiltIn.useBuiltCodeVersion()
PlumbCommand.mainWithDistributedExit()
