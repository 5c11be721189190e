import { type Routes } from '@angular/router';

import { ConversationList } from './conversation-list';
import { ConversationPage } from './conversation-page';
import { MESSAGING_ROLE, type MessagingRole } from './messaging-role';
import { MessagingShell } from './messaging-shell';

/**
 * The messaging area for one side, lazily loaded under `/patient/messages` and `/provider/messages`:
 *
 * `{ path: 'messages', loadChildren: () => import('../messaging/messaging.routes').then((m) => m.messagingRoutes('patient')) }`
 */
export function messagingRoutes(role: MessagingRole): Routes {
  return [
    {
      path: '',
      component: MessagingShell,
      providers: [{ provide: MESSAGING_ROLE, useValue: role }],
      children: [
        { path: '', title: 'Messages · Custos', component: ConversationList },
        { path: ':conversationId', title: 'Conversation · Custos', component: ConversationPage },
      ],
    },
  ];
}
