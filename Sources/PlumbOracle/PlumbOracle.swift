// PlumbOracle: placeholder until its first file lands.
