// chatstate's in-process store (`memory:`): the cost of SessionStore, draft and codec with no I/O.
import { chatstateSubject } from '../lib/chatstate-subject.mjs';

export default chatstateSubject({
  name: 'memory',
  label: 'chatstate memory:',
  url: () => 'memory:',
});
