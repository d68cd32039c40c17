from twisted.application.service import ServiceMaker

mockorigin = ServiceMaker("mockorigin", "mockorigin.tap", "A mock origin server that misbehaves exactly as scripted.", "mockorigin")
