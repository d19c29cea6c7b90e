// PlumbStages: placeholder until its first file lands.
