"""Phone calls: numbers and access codes, the keypad, outbound calls, Twilio's REST API."""
