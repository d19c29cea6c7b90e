// PlumbTask: placeholder until its first file lands.
