// PlumbModel: placeholder until its first file lands.
