"""What a connection needs from Twisted's transport and clock, whatever protocol it speaks.

``tcpwrite`` sends at once when nothing is queued and resets only after what was
written has left; ``deadlines`` keeps every connection's coarse limits (idle,
head, body, linger, hang cut) on one timer. Script timings never come here.
"""
