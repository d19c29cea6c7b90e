// PlumbStore: placeholder until its first file lands.
