// PlumbData: placeholder until its first file lands.
