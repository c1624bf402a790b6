import Foundation
import TransmuteCLI

exit(Transmute.main(Array(CommandLine.arguments.dropFirst())))
