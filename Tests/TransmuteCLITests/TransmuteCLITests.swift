import Testing

@testable import TransmuteCLI
